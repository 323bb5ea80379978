import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/bin.js');
const hasValgrind = spawnSync('valgrind', ['--version']).status === 0;
const hasGcc = spawnSync('gcc', ['--version']).status === 0;

/** writes a page, says so, then waits for a signal */
const WAITER = `#include <stdio.h>
#include <unistd.h>
static char buf[4096];
int main(void) { buf[0] = 1; printf("ready\\n"); fflush(stdout); pause(); return 0; }
`;

/** 4 pages mmap'd and written, a fork whose child writes page 0, a munmap; exit status 7 */
const PROG = `#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  char *p = mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (int i = 0; i < 4; i++) p[i * 4096] = 1;
  printf("buf %lu\\n", (unsigned long)p);
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) { p[0] = 2; _exit(0); }
  waitpid(c, 0, 0);
  munmap(p, 4 * 4096);
  return 7;
}
`;

async function mmsim(args: string[], env: Record<string, string | undefined> = { ...process.env }) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    isTTY: false,
    env,
  });
  return { code, stdout, stderr };
}

// biome-ignore lint/suspicious/noExplicitAny: records read back from JSON
type Rec = any;

describe('mmsim record: valgrind missing', () => {
  it('exit 2 and a clear error when valgrind cannot run', async () => {
    const r = await mmsim(['record', '--', 'true'], { MMSIM_VALGRIND: '/nonexistent/valgrind' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'mmsim: record: /nonexistent/valgrind not found or not runnable: mmsim record needs valgrind (Debian: apt-get install valgrind)\n',
    );
  });
});

describe.skipIf(!hasValgrind || !hasGcc)('mmsim record: a tiny C program (skipped without valgrind or gcc)', () => {
  let dir: string;
  let prog: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mmsim-record-test-'));
    writeFileSync(path.join(dir, 'prog.c'), PROG);
    prog = path.join(dir, 'prog');
    const cc = spawnSync('gcc', ['-O0', '-o', prog, path.join(dir, 'prog.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(cc.stderr);
  });

  const check = (records: Rec[], stdout: string) => {
    const header = records[0];
    expect(header).toMatchObject({ mmtrace: 1, cmd: [prog], pageSize: 4096, recorder: 'valgrind-lackey 3.19.0' });
    const buf = Number(/^buf (\d+)$/m.exec(stdout)![1]);
    const page = buf / 4096;
    const root = records.find((r) => r.t === 'mmap')!.pid;
    const mine = records.slice(1).filter((r) => r.pid === root && r.t !== 'end');
    // the buffer's mmap, its 4 pages written, the fork, the munmap, the exit, in this order
    // (the last mmap at that address: ld.so's mapping of /etc/ld.so.cache was there before, unmapped)
    const iMmap = mine.findLastIndex((r) => r.t === 'mmap' && r.addr === buf);
    expect(mine[iMmap]).toEqual({ t: 'mmap', pid: root, addr: buf, len: 16384, prot: 'rw', shared: false });
    const writes = mine.filter((r) => r.t === 'access' && r.w && r.page >= page && r.page < page + 4);
    expect(writes.map((r) => r.page)).toEqual([page, page + 1, page + 2, page + 3]);
    const fork = mine.find((r) => r.t === 'fork');
    const iFork = mine.indexOf(fork);
    const iMunmap = mine.findLastIndex((r) => r.t === 'munmap' && r.addr === buf);
    expect(mine[iMunmap]).toEqual({ t: 'munmap', pid: root, addr: buf, len: 16384 });
    expect(iMmap).toBeLessThan(mine.indexOf(writes[3]));
    expect(mine.indexOf(writes[3])).toBeLessThan(iFork);
    expect(iFork).toBeLessThan(iMunmap);
    expect(mine.at(-1)).toEqual({ t: 'exit', pid: root });
    // the child: its write to page 0 of the buffer, after the fork record, then its exit
    const child = records.slice(1).filter((r) => r.pid === fork.child);
    expect(records.indexOf(child[0])).toBeGreaterThan(records.indexOf(fork));
    expect(child.filter((r) => r.t === 'access' && r.page === page)).toEqual([
      { t: 'access', pid: fork.child, page, w: true },
    ]);
    expect(child.at(-1)).toEqual({ t: 'exit', pid: fork.child });
    expect(records.at(-1)).toEqual({ t: 'end', pid: root, truncated: false, status: 7 });
  };

  it('JSON Lines: the mmap/munmap/fork records and the writes to a known buffer, in the child too', async () => {
    const out = path.join(dir, 't.mmtrace.jsonl');
    const r = await mmsim(['record', '-o', out, '--', prog]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^mmsim: record: .*prog exited with status 7; \d+ records \(\d+ data accesses, \d+ instruction fetches dropped, 2 processes\) in /,
    );
    const records = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    check(records, r.stdout);
  });

  it('.gz: the same records, gzipped', async () => {
    const out = path.join(dir, 't.mmtrace.jsonl.gz');
    const r = await mmsim(['record', '-o', out, '--', prog]);
    expect(r.code).toBe(0);
    const records = gunzipSync(readFileSync(out))
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    check(records, r.stdout);
  });

  it('.mmtrace: the binary form holds the same records, and mmsim replay runs it', async () => {
    const out = path.join(dir, 't.mmtrace');
    const r = await mmsim(['record', '-o', out, '--', prog]);
    expect(r.code).toBe(0);
    const { openTrace } = await import('@mmsim/program-trace');
    const reader = await openTrace(out);
    const records: Rec[] = [reader.header as Rec];
    for await (const x of reader) records.push(x as Rec);
    check(records, r.stdout);
    // and mmsim replay runs it: the loader's MAP_FIXED segments over their reservation included
    const rep = await mmsim(['replay', out, '--json']);
    expect(rep.code).toBe(0);
    expect(JSON.parse(rep.stdout).total.counters.pgfault).toBeGreaterThan(4);
  });

  it('SIGINT to mmsim stops the program and leaves a valid trace ending in a truncated end record (exit 130)', async () => {
    writeFileSync(path.join(dir, 'waiter.c'), WAITER);
    const waiter = path.join(dir, 'waiter');
    expect(spawnSync('gcc', ['-O0', '-o', waiter, path.join(dir, 'waiter.c')]).status).toBe(0);
    const out = path.join(dir, 'int.mmtrace.jsonl');
    const child = spawn(process.execPath, [BIN, 'record', '-o', out, '--', waiter], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('ready')) resolve();
      }),
    );
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const records = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    const root = records[1].pid;
    expect(records.slice(-2)).toEqual([
      { t: 'exit', pid: root },
      { t: 'end', pid: root, truncated: true, signal: 'SIGINT' },
    ]);
    expect(stderr).toMatch(/waiter was killed by SIGINT; \d+ records .* \(truncated\)\n$/);
  });
});

/**
 * 512 pages written, 128 read (the shared zero page), a fork whose child writes 64 of them
 * (CoW), 64 more written by the parent. `prog launch` runs `prog` with posix_spawn() and prints
 * getrusage(RUSAGE_CHILDREN).ru_minflt: the program's minor faults from its execve() on, its
 * child's included. (A task's ru_minflt also holds the faults of the forked parent before the
 * exec: 782 from bash, 857 through env(1) for the same program; posix_spawn()'s CLONE_VFORK child
 * makes almost none.)
 */
const RUSAGE_PROG = `#include <spawn.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#define PAGES 512
extern char **environ;
int main(int argc, char **argv) {
  if (argc > 1) {
    pid_t pid;
    char *args[] = { argv[0], 0 };
    if (posix_spawn(&pid, argv[0], 0, 0, args, environ) != 0) return 2;
    waitpid(pid, 0, 0);
    struct rusage kids;
    getrusage(RUSAGE_CHILDREN, &kids);
    printf("minflt %ld maxrss %ld\\n", kids.ru_minflt, kids.ru_maxrss);
    return 0;
  }
  char *p = mmap(0, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *z = mmap(0, 128 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  volatile char s = 0;
  for (int i = 0; i < PAGES; i++) p[i * 4096] = 1;
  for (int i = 0; i < 128; i++) s += z[i * 4096];
  pid_t c = fork();
  if (c == 0) { for (int i = 0; i < 64; i++) p[i * 4096] = 2; _exit(0); }
  waitpid(c, 0, 0);
  for (int i = 0; i < 64; i++) p[(64 + i) * 4096] = 3;
  return 0;
}
`;

/** docs/recording.md "Replay against the real kernel": the tolerance, and why */
const TOLERANCE = 0.03;
const RSS_TOLERANCE = 0.1;

describe.skipIf(!hasValgrind || !hasGcc)("mmsim record + replay against the program's own getrusage()", () => {
  it('the replayed faults are within 3% of the minor faults the program makes natively (with its child), the max RSS within 10%', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mmsim-rusage-test-'));
    writeFileSync(path.join(dir, 'prog.c'), RUSAGE_PROG);
    const prog = path.join(dir, 'prog');
    const cc = spawnSync('gcc', ['-O0', '-o', prog, path.join(dir, 'prog.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(cc.stderr);
    // natively, without valgrind: the real kernel's count
    const launched = spawnSync(prog, ['launch'], { encoding: 'utf8' });
    expect(launched.status).toBe(0);
    const [native, nativeRss] = /^minflt (\d+) maxrss (\d+)$/m.exec(launched.stdout)!.slice(1).map(Number) as [
      number,
      number,
    ];
    // the work alone is 512 + 128 + 64 + 64 faults: the rest is the start of the program
    expect(native).toBeGreaterThan(768);
    const out = path.join(dir, 't.mmtrace');
    // --fetches: the text pages (their first fetch) fault and are resident, as natively
    const rec = await mmsim(['record', '--fetches', '-o', out, '--', prog]);
    expect(rec.code).toBe(0);
    const rep = await mmsim(['replay', out, '--kernel', 'linux-6.18', '--json']);
    expect(rep.code).toBe(0);
    const doc = JSON.parse(rep.stdout);
    const replayed = doc.total.counters.pgfault as number;
    const rss = doc.rusage.maxrssKb as number;
    console.log(
      `getrusage: ${native} minor faults, max RSS ${nativeRss} kB natively; mmsim replay: ${replayed} faults, ${rss} kB`,
    );
    expect(Math.abs(replayed - native)).toBeLessThanOrEqual(Math.ceil(TOLERANCE * native));
    expect(Math.abs(rss - nativeRss)).toBeLessThanOrEqual(Math.ceil(RSS_TOLERANCE * nativeRss));
    // the child's 64 CoW copies, and those of the program's own start
    expect(doc.total.counters.cow_copy).toBeGreaterThanOrEqual(64);
  });
});
