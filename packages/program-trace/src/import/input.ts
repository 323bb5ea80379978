/**
 * An importer's input, streamed: plain, gzip (`1f 8b`, node:zlib) or xz (`fd 37 7a 58 5a 00`,
 * piped through the `xz -dc` program), sniffed from the first bytes whatever the file's name.
 * Nothing holds more than one chunk of the file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { TraceFormatError } from '../errors.js';

export type Compression = 'none' | 'gzip' | 'xz';
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

export async function compressionOf(file: string): Promise<Compression> {
  const fh = await open(file, 'r');
  const head = Buffer.alloc(6);
  let n: number;
  try {
    n = (await fh.read(head, 0, 6, 0)).bytesRead;
  } finally {
    await fh.close();
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (n >= 6 && head.equals(XZ_MAGIC)) return 'xz';
  return 'none';
}

/** The decompressed bytes of `file`; a decompression failure is a TraceFormatError naming the file. `MMSIM_XZ` names the xz program. */
export async function openInput(file: string, xz = process.env.MMSIM_XZ || 'xz'): Promise<Readable> {
  const how = await compressionOf(file);
  if (how === 'none') return createReadStream(file);
  if (how === 'gzip') {
    const gz = createGunzip();
    const raw = createReadStream(file);
    raw.on('error', (e) => gz.destroy(e));
    raw.pipe(gz);
    return gz;
  }
  const probe = spawnSync(xz, ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0)
    throw new TraceFormatError(
      file,
      'header',
      undefined,
      `xz-compressed, and the ${xz} program is not installed (Debian: apt-get install xz-utils)`,
    );
  const child = spawn(xz, ['-dc', '--', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const out = child.stdout;
  child.on('exit', (code) => {
    if (code !== 0)
      out.destroy(new TraceFormatError(file, 'header', undefined, `xz -dc failed: ${err.trim() || `status ${code}`}`));
  });
  return out;
}

/** A decompression error (zlib's Z_* codes) as a TraceFormatError naming the file; others as they are. */
export function inputError(e: unknown, file: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && code.startsWith('Z_'))
    return new TraceFormatError(file, 'compressed data', undefined, `gzip: ${(e as Error).message}`);
  return e;
}

/** The lines of a text input (latin1: a log's bytes are kept as they are), without their newline. */
export async function* textLines(file: string): AsyncGenerator<string> {
  const input = await openInput(file);
  input.setEncoding('latin1');
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of rl) yield line;
  } catch (e) {
    throw inputError(e, file);
  } finally {
    rl.close();
    input.destroy();
  }
}
