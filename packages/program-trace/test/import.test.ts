import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { importTrace, type TraceRecord, TraceFormatError } from '../src/index.js';
import { champsimBytes, champsimSample, HEAP, STACK } from './champsim-fixture.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (n: string) => path.join(here, 'fixtures', 'import', n);
const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-import-'));

async function all(it: AsyncIterable<TraceRecord>): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

const S = STACK / 4096;
const r = (page: number, n?: number): TraceRecord => ({ t: 'access', pid: 1, page, w: false, ...(n && { n }) });
const w = (page: number, n?: number): TraceRecord => ({ t: 'access', pid: 1, page, w: true, ...(n && { n }) });
const chunk = (addr: number): TraceRecord => ({ t: 'mmap', pid: 1, addr, len: 0x200000, prot: 'rw' });
const SAMPLE: TraceRecord[] = [
  chunk(HEAP),
  r(0x10000, 512),
  r(0x10001, 488),
  chunk(HEAP + 0x200000),
  w(0x10200, 250),
  w(0x10201, 250),
  w(0x10202, 250),
  w(0x10203, 250),
  chunk(0x7ffe00000000),
  ...[0, 1, 2, 3, 4].flatMap(() => [r(S), w(S)]),
  r(S),
  r(S + 1),
  r(S + 2),
  w(S),
  ...[6, 7, 8, 9].flatMap(() => [r(S), w(S)]),
];

describe('import: ChampSim input_instr traces', () => {
  const plain = path.join(dir, 'sample.champsim');
  writeFileSync(plain, champsimSample());

  it('sources are reads then destinations writes, page-granular, repeats folded; one rw mapping per 2 MiB chunk before its first access', async () => {
    const t = await importTrace('champsim', plain);
    expect(t.header).toMatchObject({
      mmtrace: 1,
      cmd: ['sample.champsim'],
      recorder: 'champsim-import',
      pageSize: 4096,
    });
    expect(await all(t)).toEqual(SAMPLE);
  });
  it('a .gz trace gives the same records', async () => {
    const gz = path.join(dir, 'sample.champsim.gz');
    writeFileSync(gz, gzipSync(champsimSample()));
    expect(await all(await importTrace('champsim', gz))).toEqual(SAMPLE);
  });
  it('an .xz trace goes through xz -dc; without the xz program, a clear error', async () => {
    const xz = path.join(dir, 'sample.champsim.xz');
    writeFileSync(xz, execFileSync('xz', ['-zc'], { input: champsimSample() }));
    expect(await all(await importTrace('champsim', xz))).toEqual(SAMPLE);
    process.env.MMSIM_XZ = path.join(dir, 'no-such-xz');
    try {
      const e = await importTrace('champsim', xz)
        .then(all)
        .catch((x) => x);
      expect(e.message).toBe(
        `${xz}: header: xz-compressed, and the ${process.env.MMSIM_XZ} program is not installed (Debian: apt-get install xz-utils)`,
      );
    } finally {
      delete process.env.MMSIM_XZ;
    }
  });
  it('a truncated file (not a multiple of 64 bytes) names the byte offset of the cut record', async () => {
    const cut = path.join(dir, 'cut.champsim');
    writeFileSync(cut, champsimSample().subarray(0, 64 * 100 + 30));
    const e = await all(await importTrace('champsim', cut)).catch((x) => x);
    expect(e).toBeInstanceOf(TraceFormatError);
    expect(e.message).toBe(
      `${cut}: byte 6400: truncated instruction record: 30 of 64 bytes (the file is not a whole number of ChampSim input_instr records)`,
    );
  });
  it('an address above 2^53 names the byte offset and the field', async () => {
    const big = path.join(dir, 'big.champsim');
    writeFileSync(big, champsimBytes([{ src: [0x1000] }, { dst: [0, 2 ** 60] }]));
    const e = await all(await importTrace('champsim', big)).catch((x) => x);
    expect(e.message).toBe(`${big}: byte 88 field "destination_memory": address 0x1000000000000000 is above 2^53`);
  });
  it('a corrupt .gz is a TraceFormatError naming the file', async () => {
    const bad = path.join(dir, 'bad.champsim.gz');
    writeFileSync(bad, gzipSync(champsimSample()).subarray(0, 40));
    const e = await all(await importTrace('champsim', bad)).catch((x) => x);
    expect(e).toBeInstanceOf(TraceFormatError);
    expect(e.message).toContain(bad);
  });
});

describe('import: valgrind lackey logs', () => {
  it('with --trace-syscalls: the records `mmsim record` makes (/bin/true cut down), the exit code as the end record', async () => {
    const t = await importTrace('lackey', fixture('lackey-true.log'));
    expect(t.header).toMatchObject({ cmd: ['/bin/true'], recorder: 'lackey-import' });
    const recs = await all(t);
    expect(recs.filter((x) => x.t !== 'access')).toEqual([
      { t: 'brk', pid: 6934, addr: 0x4035000 },
      { t: 'mmap', pid: 6934, addr: 0x4835000, len: 8192, prot: 'rw', shared: false },
      { t: 'mprotect', pid: 6934, addr: 0x483a000, len: 4096, prot: 'r' },
      { t: 'munmap', pid: 6934, addr: 0x483c000, len: 38759 },
      { t: 'exit', pid: 6934 },
      { t: 'end', pid: 6934, truncated: false, status: 0 },
    ]);
    // the first accesses: 9 stores on the stack page 0x1fff000 (the 16-byte store at ...600 is one page); M is a write
    expect(recs.slice(0, 3)).toEqual([
      { t: 'access', pid: 6934, page: 0x1fff000, w: true, n: 9 },
      { t: 'access', pid: 6934, page: 0x4033, w: true, n: 2 },
      { t: 'brk', pid: 6934, addr: 0x4035000 },
    ]);
  });
  it('without syscall lines: accesses only, a 2 MiB chunk mapping before the first access into it', async () => {
    const t = await importTrace('lackey', fixture('lackey-true-mem.log'));
    const recs = await all(t);
    const maps = recs.filter((x) => x.t === 'mmap');
    expect(maps).toEqual([
      { t: 'mmap', pid: 6934, addr: 0x1fff000000, len: 0x200000, prot: 'rw' },
      { t: 'mmap', pid: 6934, addr: 0x4000000, len: 0x200000, prot: 'rw' },
      { t: 'mmap', pid: 6934, addr: 0x1ffee00000, len: 0x200000, prot: 'rw' },
    ]);
    expect(recs.filter((x) => x.t !== 'access' && x.t !== 'mmap')).toEqual([
      { t: 'exit', pid: 6934 },
      { t: 'end', pid: 6934, truncated: false, status: 0 },
    ]);
    expect(recs.slice(0, 2)).toEqual([maps[0], { t: 'access', pid: 6934, page: 0x1fff000, w: true, n: 9 }]);
  });
  it('a line valgrind does not write names the file and the line', async () => {
    const bad = path.join(dir, 'bad.log');
    writeFileSync(bad, '==7== Command: /bin/true\n S 1fff000688,8\n L zz,8\n');
    const e = await all(await importTrace('lackey', bad)).catch((x) => x);
    expect(e.message).toBe(`${bad}: line 3: not a lackey access line: " L zz,8"`);
  });
});

describe('import: strace logs', () => {
  it('strace -f of sh -c true: mmap (anonymous, file-backed with the openat path), mprotect, munmap, brk, exit', async () => {
    const t = await importTrace('strace', fixture('strace-sh.log'));
    expect(t.header).toMatchObject({ cmd: ['sh', '-c', 'true'], recorder: 'strace-import' });
    const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
    const p = 5965;
    expect(await all(t)).toEqual([
      { t: 'brk', pid: p, addr: 0x558de831f000 },
      { t: 'mmap', pid: p, addr: 0x7f3fc81b1000, len: 8192, prot: 'rw', shared: false },
      {
        t: 'mmap',
        pid: p,
        addr: 0x7f3fc81a7000,
        len: 38759,
        prot: 'r',
        shared: false,
        path: '/etc/ld.so.cache',
        offset: 0,
      },
      { t: 'mmap', pid: p, addr: 0x7f3fc7fc5000, len: 1974096, prot: 'r', shared: false, path: LIBC, offset: 0 },
      { t: 'mmap', pid: p, addr: 0x7f3fc7feb000, len: 1400832, prot: 'rx', shared: false, path: LIBC, offset: 0x26000 },
      { t: 'mmap', pid: p, addr: 0x7f3fc8141000, len: 339968, prot: 'r', shared: false, path: LIBC, offset: 0x17c000 },
      { t: 'mmap', pid: p, addr: 0x7f3fc8194000, len: 24576, prot: 'rw', shared: false, path: LIBC, offset: 0x1cf000 },
      { t: 'mmap', pid: p, addr: 0x7f3fc819a000, len: 53072, prot: 'rw', shared: false },
      { t: 'mmap', pid: p, addr: 0x7f3fc7fc2000, len: 12288, prot: 'rw', shared: false },
      { t: 'mprotect', pid: p, addr: 0x7f3fc8194000, len: 16384, prot: 'r' },
      { t: 'mprotect', pid: p, addr: 0x558dd9133000, len: 8192, prot: 'r' },
      { t: 'munmap', pid: p, addr: 0x7f3fc81a7000, len: 38759 },
      { t: 'brk', pid: p, addr: 0x558de8340000 },
      { t: 'exit', pid: p },
      { t: 'end', pid: p, truncated: false, status: 0 },
    ]);
  });
  it('-e trace=memory,process with -f: vfork and exec joined across <unfinished ...>/resumed, the child’s exit, file mappings named by their fd when openat was not traced', async () => {
    const recs = await all(await importTrace('strace', fixture('strace-f.log')));
    expect(recs).toEqual([
      { t: 'brk', pid: 5972, addr: 0x562bd27c2000 },
      { t: 'brk', pid: 5972, addr: 0x562bd27e3000 },
      { t: 'fork', pid: 5972, child: 5973 },
      { t: 'exec', pid: 5973 },
      { t: 'mmap', pid: 5973, addr: 0x7ff02918f000, len: 34, prot: 'r', shared: false, path: '<fd 3>', offset: 0 },
      { t: 'mmap', pid: 5973, addr: 0x7ff02918e000, len: 48, prot: 'r', shared: false, path: '<fd 3>', offset: 0 },
      { t: 'mmap', pid: 5973, addr: 0x7ff02918d000, len: 270, prot: 'r', shared: false, path: '<fd 3>', offset: 0 },
      { t: 'exit', pid: 5973 },
      { t: 'exit', pid: 5972 },
      { t: 'end', pid: 5972, truncated: false, status: 0 },
    ]);
  });
  it('a child that runs before its parent’s vfork returns: its records follow the fork record', async () => {
    const log = path.join(dir, 'early.log');
    writeFileSync(
      log,
      [
        '10  execve("/bin/sh", ["sh"], 0x7ffd /* 3 vars */) = 0',
        '10  vfork( <unfinished ...>',
        '11  execve("/bin/ls", ["ls"], 0x55 /* 3 vars */) = 0',
        '11  mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000',
        '10  <... vfork resumed>) = 11',
        '11  +++ exited with 0 +++',
        '10  exit_group(1) = ?',
        '10  +++ exited with 1 +++',
      ].join('\n'),
    );
    expect(await all(await importTrace('strace', log))).toEqual([
      { t: 'fork', pid: 10, child: 11 },
      { t: 'exec', pid: 11 },
      { t: 'mmap', pid: 11, addr: 0x7f0000000000, len: 8192, prot: 'rw', shared: false },
      { t: 'exit', pid: 11 },
      { t: 'exit', pid: 10 },
      { t: 'end', pid: 10, truncated: false, status: 1 },
    ]);
  });
  it('without -f, threads, madvise, mremap, a killed program', async () => {
    const log = path.join(dir, 'threads.log');
    writeFileSync(
      log,
      [
        'mmap(NULL, 1048576, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK, -1, 0) = 0x7f0000000000',
        'clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, child_tid=0x7f00000ff910}, 88) = 2',
        '[pid     2] madvise(0x7f0000000000, 8192, MADV_DONTNEED) = 0',
        '[pid     2] mremap(0x7f0000000000, 4096, 8192, MREMAP_MAYMOVE) = 0x7f1000000000',
        '[pid     2] +++ exited with 0 +++',
        'mmap(NULL, 4096, PROT_NONE, MAP_SHARED|MAP_ANONYMOUS, -1, 0) = -1 ENOMEM (Cannot allocate memory)',
        '+++ killed by SIGKILL +++',
      ].join('\n'),
    );
    expect(await all(await importTrace('strace', log))).toEqual([
      { t: 'mmap', pid: 1, addr: 0x7f0000000000, len: 1048576, prot: 'rw', shared: false },
      { t: 'clone', pid: 1, tid: 1, newTid: 2 },
      { t: 'madvise', pid: 1, tid: 2, addr: 0x7f0000000000, len: 8192, advice: 'dontneed' },
      { t: 'mremap', pid: 1, tid: 2, addr: 0x7f0000000000, oldLen: 4096, newLen: 8192, newAddr: 0x7f1000000000 },
      { t: 'exit', pid: 1 },
      { t: 'end', pid: 1, truncated: true, signal: 'SIGKILL' },
    ]);
  });
  it('a line strace does not write names the file and the line; a bad argument names the field', async () => {
    const bad = path.join(dir, 'bad-strace.log');
    writeFileSync(bad, '1  brk(NULL) = 0x1000\nhello\n');
    let e = await all(await importTrace('strace', bad)).catch((x) => x);
    expect(e.message).toBe(`${bad}: line 2: not an strace line: "hello"`);
    writeFileSync(bad, '1  munmap(0x1000, lots) = 0\n');
    e = await all(await importTrace('strace', bad)).catch((x) => x);
    expect(e.message).toBe(`${bad}: line 1 field "len": not an address or length: "lots"`);
  });
});
