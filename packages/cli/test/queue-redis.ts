/**
 * The queue tests' Redis: Debian's redis-server on a free loopback port with a password, no
 * persistence, `noeviction` (BullMQ's requirement); stopped after. `available` is false when
 * redis-server is not installed (the tests then skip, saying so).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/bin.js');
export const PASSWORD = 'mmsim-test-pw';
export const available = spawnSync('redis-server', ['--version']).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  url: string;
  port: number;
  /** SIGTERM and start again on the same port (with `persist`, the data is kept through the AOF) */
  restart(): Promise<void>;
  /** FLUSHALL: no job of an earlier test is found again (the same configuration is the same job) */
  flush(): void;
  stop(): Promise<void>;
}

/**
 * `persist`: a directory for an append-only file, so a restart keeps the queue (as a production
 * Redis does). `tls`: a directory where a self-signed certificate for 127.0.0.1 is made
 * (`cert.pem`, openssl); the server then speaks TLS only, and the URL is `rediss://`.
 */
export async function startRedis(o: { persist?: string; tls?: string } = {}): Promise<TestRedis> {
  const port = await freePort();
  const extra = o.tls ? tlsArgs(o.tls, port) : [];
  let proc = await launch(port, o.persist, extra);
  return {
    url: `${o.tls ? 'rediss' : 'redis'}://:${PASSWORD}@127.0.0.1:${port}`,
    port,
    restart: async () => {
      await stopProcess(proc);
      proc = await launch(port, o.persist, extra);
    },
    flush: () => void redisCliAt(port, 'flushall'),
    stop: () => stopProcess(proc),
  };
}

/** `redis-cli ARGS` against the test server: its output, trimmed. */
export function redisCli(r: TestRedis, ...args: string[]): string {
  return redisCliAt(r.port, ...args);
}

function redisCliAt(port: number, ...args: string[]): string {
  const out = spawnSync('redis-cli', ['-p', String(port), '--no-auth-warning', '-a', PASSWORD, ...args], {
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${out.stderr}`);
  return out.stdout.trim();
}

export const opensslAvailable = spawnSync('openssl', ['version']).status === 0;

function tlsArgs(dir: string, port: number): string[] {
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl req: ${r.stderr}`);
  return [
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--tls-cert-file',
    path.join(dir, 'cert.pem'),
    '--tls-key-file',
    path.join(dir, 'key.pem'),
    '--tls-auth-clients',
    'no',
  ];
}

async function launch(port: number, persist?: string, extra: string[] = []): Promise<ChildProcess> {
  const proc = spawn(
    'redis-server',
    [
      ...(extra.length ? extra : ['--port', String(port)]),
      '--bind',
      '127.0.0.1',
      '--requirepass',
      PASSWORD,
      '--save',
      '',
      ...(persist ? ['--appendonly', 'yes', '--dir', persist] : ['--appendonly', 'no']),
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    proc.once('exit', (c) => reject(new Error(`redis-server exited ${c}: ${out}`)));
  });
  return proc;
}

export function stopProcess(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill(signal);
  });
}

export interface Started {
  proc: ChildProcess;
  stderr(): string;
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** `node dist/bin.js ARGS` with output captured (`raw`: `node ARGS`, another mmsim's bin first). */
export function startMmsim(args: string[], env: Record<string, string> = {}, o: { raw?: boolean } = {}): Started {
  const proc = spawn(process.execPath, o.raw ? args : [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    proc.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { proc, stderr: () => stderr, exited };
}

/** Resolves once `cond()` holds (polling every 50 ms), or throws after `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Workers' stalled-job check every second: a killed worker's job runs again at once. */
export const STALL = { MMSIM_QUEUE_STALLED_MS: '1000' };

/** The jobs workers finished (a job may run twice: BullMQ delivers at least once; the report counts it once). */
export const doneJobs = (...ws: Started[]) =>
  new Set(ws.flatMap((w) => [...w.stderr().matchAll(/^mmsim worker: (\S+) .* done in /gm)].map((m) => m[1]))).size;
