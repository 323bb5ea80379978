/**
 * `--queue` (BullMQ on Redis): a producer and two `mmsim worker` processes give the local
 * output byte for byte, a worker killed with SIGKILL mid-sweep still gives the whole report,
 * `check --queue` finds and shrinks linux-5.9's stale pin as the local check does, and a bad URL
 * or a wrong password is exit 2. Each suite starts its own redis-server (queue-redis.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixture } from './helpers.js';
import {
  available,
  opensslAvailable,
  doneJobs,
  PASSWORD,
  startMmsim,
  STALL,
  startRedis,
  stopProcess,
  type Started,
  until,
  type TestRedis,
} from './queue-redis.js';

const SWEEP = [
  'compare',
  fixture('compare/vars.yaml'),
  '--var',
  'SIZE=64K,128K,256K',
  '--kernel',
  'linux-5.9',
  '--kernel',
  'linux-6.18',
  '--policy',
  fixture('plugins/always-copy.ts'), // a local plugin: its file travels with the job
  '--json',
];

describe.skipIf(!available)('mmsim compare --queue with two workers (redis-server on a loopback port)', () => {
  let redis: TestRedis;
  let local: string;
  beforeAll(async () => {
    redis = await startRedis();
    const r = await startMmsim([...SWEEP, '--jobs', '1']).exited;
    expect(r.code).toBe(0);
    local = r.stdout;
  });
  afterAll(async () => {
    await redis?.stop();
  });
  beforeEach(() => redis.flush());

  it('gives the local --json document, byte for byte; workers stop on SIGTERM (0) and SIGINT (130)', async () => {
    const a = startMmsim(['worker', '--queue', redis.url], STALL);
    const b = startMmsim(['worker', '--queue', redis.url], STALL);
    const r = await startMmsim([...SWEEP, '--queue', redis.url]).exited;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).configs).toHaveLength(12);
    expect(r.stdout).toBe(local);
    expect(doneJobs(a, b)).toBe(12);
    // two sets of files (the runs without the plugin, and with its file): a worker makes the tree of
    // each once, and keeps it while it serves
    const treesOf = (w: Started) => readdirSync(tmpdir()).filter((e) => e.startsWith(`mmsim-job-${w.proc.pid}-`));
    const kept = [treesOf(a).length, treesOf(b).length];
    a.proc.kill('SIGTERM');
    b.proc.kill('SIGINT');
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    expect([ea.code, eb.code]).toEqual([0, 130]);
    expect([treesOf(a), treesOf(b)]).toEqual([[], []]);
    for (const n of kept) expect([1, 2]).toContain(n);
    expect(ea.stderr).toMatch(/serving redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(1 at a time\)/);
    expect(ea.stderr + eb.stderr).not.toContain(PASSWORD);
  });

  it('a worker killed with SIGKILL mid-sweep: its job is retried by the other, the report is complete', async () => {
    const a = startMmsim(['worker', '--queue', redis.url], STALL);
    const producer = startMmsim([...SWEEP, '--queue', redis.url]);
    // a is running its second job (a child process of it) when it dies, with its child (the machine goes)
    const childOf = (pid: number) =>
      spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean)
        .map(Number);
    await until(() => doneJobs(a) >= 1 && childOf(a.proc.pid!).length > 0, 60_000, 'worker a in its second job');
    const orphans = childOf(a.proc.pid!);
    a.proc.kill('SIGKILL');
    for (const p of orphans) process.kill(p, 'SIGKILL');
    await a.exited;
    // a's job trees (one or two sets of files) outlived it: no cleanup ran; the next worker removes them
    const trees = () => readdirSync(tmpdir()).filter((e) => e.startsWith(`mmsim-job-${a.proc.pid}-`));
    expect([1, 2]).toContain(trees().length);
    const b = startMmsim(['worker', '--queue', redis.url], STALL);
    await until(() => b.stderr().includes(' serving '), 30_000, 'worker b serving');
    expect(trees()).toEqual([]);
    const r = await producer.exited;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(local);
    // the job a died in ran again on b: every configuration once in the report
    expect(doneJobs(a, b)).toBe(12);
    await stopProcess(b.proc);
  });
});

describe.skipIf(!available)('mmsim check --queue (redis-server on a loopback port)', () => {
  let redis: TestRedis;
  let dirs: string[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('finds and shrinks linux-5.9 stale pin as the local check does (same report, same finding file)', async () => {
    const args = ['check', '--kernel', 'linux-5.9', '--hardware', 'flat', '--runs', '300', '--seed', '1'];
    const outLocal = mkdtempSync(path.join(tmpdir(), 'mmsim-q-local-'));
    const outQueue = mkdtempSync(path.join(tmpdir(), 'mmsim-q-queue-'));
    dirs = [outLocal, outQueue];
    const l = await startMmsim([...args, '--out', outLocal]).exited;
    const w = startMmsim(['worker', '--queue', redis.url], STALL);
    const q = await startMmsim([...args, '--out', outQueue, '--queue', redis.url]).exited;
    await stopProcess(w.proc);
    expect([l.code, q.code]).toEqual([1, 1]);
    const same = (s: string, dir: string) =>
      s
        .replace(/\(\d+\.\d s,/, '(T s,')
        .split(dir)
        .join('OUT');
    expect(same(q.stdout, outQueue)).toBe(same(l.stdout, outLocal));
    expect(q.stdout).toMatch(/linux-5\.9 on flat: 177 runs, \d+ steps, 1 violation\(s\)/);
    expect(q.stdout).toContain('[pin] after step 5: pin "pin0" page 0 holds pfn 1');
    expect(q.stdout).toContain('shrunk 13 → 8 steps');
    const files = readdirSync(outQueue);
    expect(files).toEqual(readdirSync(outLocal));
    expect(files).toHaveLength(1);
    expect(readFileSync(path.join(outQueue, files[0]!), 'utf8')).toBe(
      readFileSync(path.join(outLocal, files[0]!), 'utf8'),
    );
    expect(w.stderr()).toMatch(/check linux-5\.9 done in/);
  });

  it('--seeds: a job per kernel and seed over two workers, the local results', async () => {
    const args = [
      'check',
      '--kernel',
      'linux-5.9',
      '--kernel',
      'linux-6.18',
      '--hardware',
      'flat',
      '--runs',
      '60',
      '--seed',
      '3',
      '--seeds',
      '3',
      '--json',
    ];
    const l = await startMmsim(args).exited;
    const a = startMmsim(['worker', '--queue', redis.url], STALL);
    const b = startMmsim(['worker', '--queue', redis.url], STALL);
    const q = await startMmsim([...args, '--queue', redis.url]).exited;
    await Promise.all([stopProcess(a.proc), stopProcess(b.proc)]);
    const strip = (s: string) => JSON.parse(s).map((r: { ms: number }) => ({ ...r, ms: 0 }));
    expect(q.code).toBe(l.code);
    expect(strip(q.stdout)).toEqual(strip(l.stdout));
    expect(strip(q.stdout).map((r: { kernel: string; seed: number }) => `${r.kernel}:${r.seed}`)).toEqual([
      'linux-5.9:3',
      'linux-5.9:4',
      'linux-5.9:5',
      'linux-6.18:3',
      'linux-6.18:4',
      'linux-6.18:5',
    ]);
    expect(doneJobs(a, b)).toBe(6);
  });

  it('--json over the queue: the same findings as locally', async () => {
    const args = ['check', '--kernel', 'linux-5.9', '--hardware', 'flat', '--runs', '300', '--seed', '1', '--json'];
    const l = await startMmsim(args).exited;
    const w = startMmsim(['worker', '--queue', redis.url], STALL);
    const q = await startMmsim([...args, '--queue', redis.url]).exited;
    await stopProcess(w.proc);
    const strip = (s: string) => JSON.parse(s).map((r: { ms: number }) => ({ ...r, ms: 0 }));
    expect(q.code).toBe(1);
    expect(strip(q.stdout)).toEqual(strip(l.stdout));
    expect(strip(q.stdout)[0].violations[0].shrunkSteps).toBe(8);
  });
});

describe.skipIf(!available)('--queue: bad addresses are bad input (exit 2)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it.each([
    ['http://127.0.0.1:6379', 'unsupported scheme "http:"'],
    ['redis://127.0.0.1', 'no port'],
    ['redis://127.0.0.1:6379/x', 'bad database "x"'],
    ['not a url', 'not a URL'],
  ])('%s', async (url, why) => {
    const r = await startMmsim([...SWEEP, '--queue', url]).exited;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`mmsim: --queue ${url}: ${why} (expected redis://[user:password@]host:port[/db]`);
  });

  it('a wrong password: exit 2 naming the URL without the password (producer, check and worker)', async () => {
    const url = `redis://:wrong-secret@127.0.0.1:${redis.port}`;
    for (const args of [
      [...SWEEP, '--queue', url],
      ['check', '--kernel', 'linux-6.18', '--runs', '1', '--queue', url],
      ['worker', '--queue', url],
    ]) {
      const r = await startMmsim(args).exited;
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `--queue redis://:***@127.0.0.1:${redis.port}: Redis refused the credentials (WRONGPASS`,
      );
      expect(r.stderr).not.toContain('wrong-secret');
    }
  });

  it('no server on the port: exit 2, "cannot reach Redis"', async () => {
    const r = await startMmsim(['worker', '--queue', `redis://:${PASSWORD}@127.0.0.1:1`]).exited;
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `mmsim: --queue redis://:***@127.0.0.1:1: cannot reach Redis: connect ECONNREFUSED 127.0.0.1:1\n`,
    );
  });
});

if (!available) {
  describe('--queue', () => {
    it.skip('skipped: redis-server is not installed (apt-get install -y redis-server; .ci/run does)', () => {});
  });
}

describe.skipIf(!available || !opensslAvailable)('--queue over TLS (rediss://, a self-signed certificate)', () => {
  let redis: TestRedis;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mmsim-q-tls-'));
    redis = await startRedis({ tls: dir });
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('trusting its CA (NODE_EXTRA_CA_CERTS): the local document; without it: exit 2 naming the certificate', async () => {
    expect(redis.url).toMatch(/^rediss:\/\//);
    const args = ['compare', fixture('compare/vars.yaml'), '--var', 'SIZE=64K,128K', '--json'];
    const ca = { NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem') };
    const l = await startMmsim([...args, '--jobs', '1']).exited;
    const w = startMmsim(['worker', '--queue', redis.url], { ...STALL, ...ca });
    const q = await startMmsim([...args, '--queue', redis.url], ca).exited;
    await stopProcess(w.proc);
    expect([q.code, q.stderr]).toEqual([0, '']);
    expect(q.stdout).toBe(l.stdout);
    expect(doneJobs(w)).toBe(2);
    const untrusted = await startMmsim(['worker', '--queue', redis.url]).exited;
    expect(untrusted.code).toBe(2);
    expect(untrusted.stderr).toMatch(
      /^mmsim: --queue rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+: cannot reach Redis: self[- ]signed certificate/,
    );
  });
});
