/**
 * Reading valgrind's per-pid log files while they grow (`--log-file=DIR/log.%p`), a chunk at a
 * time. The text already converted is released from the disk with `fallocate --punch-hole`
 * every PUNCH bytes (valgrind keeps writing at its own offset; the file becomes sparse), so a
 * long run never leaves gigabytes of log behind.
 */
import { spawn } from 'node:child_process';
import { open, type FileHandle } from 'node:fs/promises';

const READ = 1 << 20;
export const PUNCH = 64 << 20;

export class LogTail {
  private fh: FileHandle | undefined;
  private offset = 0;
  private punched = 0;
  private rest = '';
  private readonly buf = Buffer.allocUnsafe(READ);
  bytes = 0;

  constructor(
    readonly file: string,
    private readonly onLine: (line: string) => void,
    private readonly punch = true,
  ) {}

  /** Read what is there now; resolves to the bytes read. */
  async poll(): Promise<number> {
    this.fh ??= await open(this.file, 'r');
    let total = 0;
    for (;;) {
      const { bytesRead } = await this.fh.read(this.buf, 0, READ, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      total += bytesRead;
      const text = this.rest + this.buf.toString('latin1', 0, bytesRead);
      const lines = text.split('\n');
      this.rest = lines.pop()!;
      for (const l of lines) this.onLine(l);
    }
    if (total === 0) {
      // valgrind reopens log.%p with O_TRUNC after an execve: start again from its beginning
      const { size } = await this.fh.stat();
      if (size < this.offset) {
        this.offset = 0;
        this.rest = '';
        return this.poll();
      }
    }
    this.bytes += total;
    if (this.punch && this.offset - this.punched >= PUNCH) await this.punchHole();
    return total;
  }

  private async punchHole(): Promise<void> {
    const upTo = this.offset - (this.offset % 4096);
    const p = spawn('fallocate', ['--punch-hole', '--offset', '0', '--length', String(upTo), this.file], {
      stdio: 'ignore',
    });
    await new Promise<void>((resolve) => {
      p.on('error', () => resolve());
      p.on('exit', () => resolve());
    });
    this.punched = upTo;
  }

  /** The last line without a newline (a killed process), then close. */
  async close(): Promise<void> {
    if (this.rest !== '') this.onLine(this.rest);
    this.rest = '';
    await this.fh?.close();
    this.fh = undefined;
  }
}
