import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../dist/bin.js');
/** long enough for the worker to load and the run loop to be busy */
const DELAY = 3000;

interface Stopped {
  code: number | null;
  stdout: string;
  stderr: string;
  /** ms from the signal to the exit */
  ms: number;
}

async function stop(cmd: string, args: string[], send: (c: ReturnType<typeof spawn>) => void): Promise<Stopped> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  await new Promise((r) => setTimeout(r, DELAY));
  const t0 = Date.now();
  send(child);
  const code = await exited;
  return { code, stdout, stderr, ms: Date.now() - t0 };
}

describe('mmsim run: interrupted', () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`on ${sig} exits 130 within a second with one JSON document marked interrupted`, async () => {
      const r = await stop(process.execPath, [BIN, 'run', fixture('long.yaml'), '--json'], (c) => c.kill(sig));
      expect(r.code).toBe(130);
      expect(r.ms).toBeLessThan(1000);
      const doc = JSON.parse(r.stdout);
      expect(doc.interrupted).toBe(true);
      expect(doc.incomplete).toBe(true);
      expect(doc.total.steps).toBeGreaterThan(0);
      expect(doc.config.run.file).toContain('long.yaml');
      expect(r.stderr).toContain('mmsim: interrupted');
    }, 30_000);
  }

  it('with a tap that never returns: the 2 s hard exit says why (exit 130, nothing on stdout)', async () => {
    const r = await stop(process.execPath, [BIN, 'run', fixture('spinning-tap.yaml'), '--json'], (c) =>
      c.kill('SIGINT'),
    );
    expect(r.code).toBe(130);
    expect(r.ms).toBeGreaterThanOrEqual(1900);
    expect(r.ms).toBeLessThan(4000);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('mmsim: interrupted: the run did not stop within 2 s of the signal');
  }, 30_000);

  // one step that runs for many seconds: the kernel loop polls at its cond_resched() points
  for (const [name, counter] of [
    ['long-pin.yaml', 'pgfault'],
    ['long-uffd-copy.yaml', 'uffd_copy'],
  ] as const) {
    it(`inside one long step (${name}): exit 130 within a second, with the work done so far`, async () => {
      const r = await stop(process.execPath, [BIN, 'run', fixture(name), '--json'], (c) => c.kill('SIGINT'));
      expect(r.code).toBe(130);
      expect(r.ms).toBeLessThan(1000);
      const doc = JSON.parse(r.stdout);
      expect(doc.interrupted).toBe(true);
      expect(doc.total.counters[counter]).toBeGreaterThan(0);
    }, 30_000);
  }

  it('the table says INTERRUPTED', async () => {
    const r = await stop(process.execPath, [BIN, 'run', fixture('long.yaml')], (c) => c.kill('SIGINT'));
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/^status +INTERRUPTED: incomplete/m);
    expect(r.stdout).toContain('checks');
  }, 30_000);

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)(
    'Ctrl-C in a terminal (script(1) pty) exits 130 within a second',
    async () => {
      const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} run ${JSON.stringify(fixture('long.yaml'))}`;
      // ^C typed on the pty: the line discipline sends SIGINT to the foreground process group
      const r = await stop('script', ['-qec', cmd, '/dev/null'], (c) => c.stdin!.write('\x03'));
      expect(r.code).toBe(130);
      expect(r.ms).toBeLessThan(1000);
      expect(r.stdout).toContain('INTERRUPTED');
    },
    30_000,
  );
});
