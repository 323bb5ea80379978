/**
 * `--queue` under faults: Redis restarting mid-sweep (producer and worker reconnect, the report
 * is the local one), Ctrl-C on the producer (exit 130, what finished is printed, the queued jobs
 * are cancelled), a worker of another mmsim version (it refuses, the producer says so: exit 2)
 * and a job whose plugin throws (reported with its configuration, as locally).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixture } from './helpers.js';
import {
  available,
  doneJobs,
  BIN,
  redisCli,
  startMmsim,
  STALL,
  startRedis,
  stopProcess,
  until,
  type TestRedis,
} from './queue-redis.js';

/** 3 sizes × 2 kernels × 10 seeds: 60 jobs of about 0.1 s, long enough to act on mid-sweep */
const SWEEP = [
  'compare',
  fixture('compare/vars.yaml'),
  '--var',
  'SIZE=64M,128M,256M',
  '--kernel',
  'linux-5.9',
  '--kernel',
  'linux-6.18',
  '--seeds',
  '10',
  '--json',
];

describe.skipIf(!available)('--queue under faults (redis-server on a loopback port, append-only file)', () => {
  let redis: TestRedis;
  let local: string;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mmsim-q-faults-'));
    redis = await startRedis({ persist: dir });
    const r = await startMmsim([...SWEEP, '--jobs', '1']).exited;
    expect(r.code).toBe(0);
    local = r.stdout;
    expect(JSON.parse(local).configs).toHaveLength(60);
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => redis.flush());

  it('Redis restarts mid-sweep: producer and worker reconnect, the report is the local one', async () => {
    const w = startMmsim(['worker', '--queue', redis.url], STALL);
    const producer = startMmsim([...SWEEP, '--queue', redis.url]);
    await until(() => doneJobs(w) >= 3, 60_000, 'three jobs done');
    await redis.restart();
    const before = doneJobs(w);
    expect(before).toBeLessThan(50); // the restart came mid-sweep
    const r = await producer.exited;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(local);
    // every job at least once (one running across the restart may run twice; the report counts it once)
    expect(doneJobs(w)).toBe(60);
    await stopProcess(w.proc);
  });

  it('Ctrl-C on the producer: exit 130, the finished runs printed, the queued jobs cancelled', async () => {
    const w = startMmsim(['worker', '--queue', redis.url], STALL);
    const producer = startMmsim([...SWEEP, '--queue', redis.url]);
    await until(() => doneJobs(w) >= 3, 60_000, 'three jobs done');
    producer.proc.kill('SIGINT');
    const r = await producer.exited;
    expect(r.code).toBe(130);
    const m = /mmsim: interrupted: (\d+) of 60 runs finished/.exec(r.stderr);
    expect(m).not.toBeNull();
    const finished = Number(m![1]);
    expect(finished).toBeGreaterThanOrEqual(3);
    expect(finished).toBeLessThan(60);
    // stdout is one whole document of the finished runs, each as in the local report
    const doc = JSON.parse(r.stdout) as { configs: unknown[] };
    expect(doc.configs).toHaveLength(finished);
    const all = (JSON.parse(local) as { configs: unknown[] }).configs.map((c) => JSON.stringify(c));
    for (const c of doc.configs) expect(all).toContain(JSON.stringify(c));
    // nothing is left waiting: the worker finishes at most the job it was running, unprinted
    expect(redisCli(redis, 'llen', 'bull:mmsim:wait')).toBe('0');
    await new Promise((res) => setTimeout(res, 1500));
    expect(doneJobs(w)).toBeGreaterThanOrEqual(finished);
    expect(doneJobs(w)).toBeLessThanOrEqual(finished + 1);
    await stopProcess(w.proc);
  });

  it('no worker alive: the producer says so after 5 s and waits; a worker started later finishes the sweep', async () => {
    const args = ['compare', fixture('compare/vars.yaml'), '--var', 'SIZE=64K', '--json'];
    const producer = startMmsim([...args, '--queue', redis.url]);
    await until(() => producer.stderr().includes('no mmsim worker'), 30_000, 'the producer saying so');
    expect(producer.stderr()).toMatch(
      /^mmsim: no mmsim worker is serving redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(none for 5 s\): waiting; start one with `mmsim worker --queue URL`, or Ctrl-C\n$/,
    );
    const w = startMmsim(['worker', '--queue', redis.url], STALL);
    const q = await producer.exited;
    await stopProcess(w.proc);
    const l = await startMmsim([...args, '--jobs', '1']).exited;
    expect(q.code).toBe(0);
    expect(q.stdout).toBe(l.stdout);
    expect(q.stderr.match(/no mmsim worker/g)).toHaveLength(1);
  });

  it('a worker of another mmsim version refuses the job; the producer reports it (exit 2)', async () => {
    // the same build under a package.json of another version: a real second install
    const other = mkdtempSync(path.join(tmpdir(), 'mmsim-other-'));
    const cli = path.resolve(path.dirname(BIN), '..');
    try {
      cpSync(path.join(cli, 'dist'), path.join(other, 'dist'), { recursive: true });
      const pkg = JSON.parse(readFileSync(path.join(cli, 'package.json'), 'utf8')) as { version: string };
      const ours = pkg.version;
      writeFileSync(path.join(other, 'package.json'), JSON.stringify({ ...pkg, version: '0.0.0-other' }));
      symlinkSync(path.join(cli, 'node_modules'), path.join(other, 'node_modules'));
      const w = startMmsim([path.join(other, 'dist', 'bin.js'), 'worker', '--queue', redis.url], STALL, {
        raw: true,
      });
      const r = await startMmsim([...SWEEP, '--queue', redis.url]).exited;
      await stopProcess(w.proc);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        new RegExp(
          `^mmsim: linux-[\\d.]+/x86/SIZE=\\d+M: job failed on the queue: worker \\S+ refused job run-[0-9a-f]{64}: it runs mmsim 0\\.0\\.0-other, the job needs mmsim ${ours.replace(/\./g, '\\.')}\\n$`,
        ),
      );
      expect(w.stderr()).toMatch(
        /^mmsim worker: refused job run-[0-9a-f]{12} \S+vars\.yaml linux-[\d.]+ SIZE=\d+M seed \d+: it runs mmsim 0\.0\.0-other, the job needs mmsim /m,
      );
      expect(doneJobs(w)).toBe(0);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('a job whose plugin throws: reported with its configuration and exit code, as locally', async () => {
    const args = [
      'compare',
      fixture('compare/vars.yaml'),
      '--var',
      'SIZE=64K',
      '--policy',
      fixture('plugins/throwing.mjs'),
      '--json',
    ];
    const l = await startMmsim([...args, '--jobs', '1']).exited;
    const w = startMmsim(['worker', '--queue', redis.url], STALL);
    const q = await startMmsim([...args, '--queue', redis.url]).exited;
    await stopProcess(w.proc);
    expect(l.code).toBe(2);
    expect(l.stderr).toContain('plugin "throwing-policy" threw in hook fault.wpReuse: boom');
    expect([q.code, q.stdout, q.stderr]).toEqual([l.code, l.stdout, l.stderr]);
    expect(w.stderr()).toMatch(/ failed in [\d.]+ s \(exit 2: .*plugin "throwing-policy" threw in hook fault\.wpReuse/);
  });

  it('a plugin package installed on the producer only: the worker says so, the producer reports it (exit 2)', async () => {
    // a project with its own node_modules: packages by name do not travel with jobs
    const proj = mkdtempSync(path.join(tmpdir(), 'mmsim-q-proj-'));
    try {
      cpSync(fixture('compare/vars.yaml'), path.join(proj, 'vars.yaml'));
      const pkg = path.join(proj, 'node_modules', 'mmsim-policy-here');
      cpSync(fixture('plugins/named-factory.mjs'), path.join(pkg, 'index.mjs'));
      writeFileSync(
        path.join(pkg, 'package.json'),
        JSON.stringify({ name: 'mmsim-policy-here', version: '1.0.0', type: 'module', exports: './index.mjs' }),
      );
      const args = ['compare', path.join(proj, 'vars.yaml'), '--var', 'SIZE=64K', '--policy', 'mmsim-policy-here'];
      const l = await startMmsim([...args, '--json', '--jobs', '1']).exited;
      expect(l.code).toBe(0); // the producer's machine loads it
      const w = startMmsim(['worker', '--queue', redis.url], STALL);
      const q = await startMmsim([...args, '--json', '--queue', redis.url]).exited;
      await stopProcess(w.proc);
      expect([q.code, q.stdout]).toEqual([2, '']);
      expect(q.stderr).toMatch(
        /^mmsim: linux-6\.18\/x86\/\+\S+: --policy mmsim-policy-here: unknown plugin: cannot find package "mmsim-policy-here" /,
      );
      expect(w.stderr()).toMatch(/ failed in [\d.]+ s \(exit 2: --policy mmsim-policy-here: unknown plugin/);
    } finally {
      rmSync(proj, { recursive: true, force: true });
    }
  });

  it('a worker reads nothing from the producer disk: absolute paths, a plugin importing its own module', async () => {
    // the scenario and a two-module plugin in a directory deleted once the jobs are queued
    const src = mkdtempSync(path.join(tmpdir(), 'mmsim-q-src-'));
    try {
      cpSync(fixture('compare/vars.yaml'), path.join(src, 'vars.yaml'));
      cpSync(fixture('plugins/split'), path.join(src, 'split'), { recursive: true });
      // the plugin's `@mmsim/core` type import needs no node_modules: jiti strips it
      const args = [
        'compare',
        path.join(src, 'vars.yaml'),
        '--var',
        'SIZE=64K',
        '--kernel',
        'linux-5.9',
        '--kernel',
        'linux-6.18',
        '--policy',
        path.join(src, 'split/policy.ts'),
        '--json',
      ];
      const l = await startMmsim([...args, '--jobs', '1']).exited;
      expect(l.code).toBe(0);
      // each kernel without and with the policy (compare's baseline)
      const labels = JSON.parse(l.stdout).configs.map((c: { label: string }) => c.label);
      expect(labels).toEqual(['linux-5.9/x86', 'linux-5.9/x86/+policy', 'linux-6.18/x86', 'linux-6.18/x86/+policy']);
      // the policy decided: it copies where linux-6.18 reuses
      const copies = (i: number) => JSON.parse(l.stdout).configs[i].result.total.counters.cow_copy;
      expect(copies(3)).toBeGreaterThan(copies(2));
      const producer = startMmsim([...args, '--queue', redis.url]);
      await until(() => redisCli(redis, 'llen', 'bull:mmsim:wait') === '4', 30_000, 'four jobs queued');
      rmSync(src, { recursive: true, force: true });
      const w = startMmsim(['worker', '--queue', redis.url], STALL);
      const q = await producer.exited;
      await stopProcess(w.proc);
      expect([q.code, q.stderr]).toEqual([0, '']);
      expect(q.stdout).toBe(l.stdout);
      expect(doneJobs(w)).toBe(4);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  it('two places with the same payload are one job, and both get its result', async () => {
    const { queueJobs } = await import('../src/queue/producer.js');
    const { requestFiles } = await import('../src/queue/payload.js');
    const { parseQueueUrl } = await import('../src/queue/connection.js');
    const { MMSIM_VERSION } = await import('../src/queue/compare.js');
    const request = { file: fixture('compare/vars.yaml'), vars: { SIZE: '64K' }, seed: 1 };
    const files = requestFiles(request, {}, process.cwd());
    const p = { kind: 'run' as const, version: MMSIM_VERSION, cwd: process.cwd(), request, files: files.hashes() };
    const w = startMmsim(['worker', '--queue', redis.url], STALL);
    const seen: number[] = [];
    const run = await queueJobs(parseQueueUrl(redis.url), [p, p], files, { onResult: (i) => seen.push(i) });
    await run.done;
    await stopProcess(w.proc);
    expect(run.failure).toBeUndefined();
    expect(seen.sort()).toEqual([0, 1]);
    expect(run.results[0]).toEqual(run.results[1]);
    expect(run.results[0]?.kind).toBe('run');
    expect(doneJobs(w)).toBe(1);
  });
});
