/**
 * `mmsim record [-o FILE] -- CMD [ARGS...]`: runs CMD under valgrind (lackey with
 * `--trace-mem=yes --trace-syscalls=yes --trace-children=yes`, a log per pid) and converts the
 * logs while they grow into an mmsim trace (JSON Lines; gzipped when FILE ends in `.gz`).
 * Exit codes: 0 recorded (whatever CMD's own status, which is reported), 2 bad usage or no
 * valgrind, 3 internal error, 130 interrupted (the trace ends with a truncated `end` record).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CliIO } from '../cli.js';
import { LogConverter } from './converter.js';
import type { TraceHeader, TraceRecord } from './records.js';
import { LogTail } from './tail.js';
import { BinaryRecordWriter, JsonlTraceWriter } from './writer.js';

export interface RecordFlags {
  output?: string;
  /** `--fetches`: the first instruction fetch of each page (since a mapping change) as a read */
  fetches?: boolean;
}

export const DEFAULT_OUTPUT = 'trace.mmtrace.jsonl';

export const RECORD_NOTES = [
  'recorded under valgrind lackey: the address-space layout is valgrind’s, not a native run’s (the program is loaded by valgrind, not by the kernel’s ELF loader and ld.so’s first mappings; valgrind’s own mappings are not in the trace)',
  'instruction fetches (lackey I lines) are dropped: accesses are data loads and stores only',
  'accesses carry no thread: lackey does not say which thread made them; the CPU is unknown',
  'mappings made before the first traced syscall (the executable, the stack, the vDSO) have no mmap record',
];

const LOG = /^log\.(\d+)$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function valgrindVersion(bin: string): string | undefined {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.trim().replace(/^valgrind-/, '');
}

export async function recordCommand(cmd: string[], flags: RecordFlags, io: CliIO): Promise<number> {
  const env = io.env ?? process.env;
  if (cmd.length === 0) {
    io.stderr.write('mmsim: record: no command: mmsim record [-o FILE] -- CMD [ARGS...]\n');
    return 2;
  }
  const out = flags.output ?? DEFAULT_OUTPUT;
  // the binary form: @mmsim/program-trace's writer, fed as the records come
  const binary = out.endsWith('.mmtrace');
  const valgrind = env.MMSIM_VALGRIND || 'valgrind';
  const version = valgrindVersion(valgrind);
  if (version === undefined) {
    io.stderr.write(
      `mmsim: record: ${valgrind} not found or not runnable: mmsim record needs valgrind (Debian: apt-get install valgrind)\n`,
    );
    return 2;
  }

  const dir = await mkdtemp(path.join(os.tmpdir(), 'mmsim-record-'));
  const header: TraceHeader = {
    mmtrace: 1,
    cmd,
    kernel: os.release(),
    pageSize: 4096,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    recorder: `valgrind-lackey ${version}`,
    notes: flags.fetches
      ? RECORD_NOTES.map((n) =>
          n.startsWith('instruction fetches')
            ? "instruction fetches (lackey I lines): the first of each page since the process's last mapping change is a read access, the others are dropped"
            : n,
        )
      : RECORD_NOTES,
  };
  const writer = binary
    ? new BinaryRecordWriter(new (await import('@mmsim/program-trace')).BinaryTraceWriter(out, { ...header }))
    : new JsonlTraceWriter(out, header);
  const eligible = new Set<number>();
  const emit = (r: TraceRecord) => {
    writer.write(r);
    if (r.t === 'fork') eligible.add(r.child);
  };

  const child = spawn(
    valgrind,
    [
      '--tool=lackey',
      '--trace-mem=yes',
      '--trace-syscalls=yes',
      '--trace-children=yes',
      `--log-file=${path.join(dir, 'log.%p')}`,
      ...cmd,
    ],
    { stdio: ['inherit', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (d: Buffer) => io.stdout.write(d.toString()));
  child.stderr.on('data', (d: Buffer) => io.stderr.write(d.toString()));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
    child.on('error', (e) => {
      spawnError = e;
      exit = { code: null, signal: null };
      resolve();
    });
  });
  if (child.pid !== undefined) eligible.add(child.pid);

  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted ??= sig;
    if (exit === undefined) {
      child.kill('SIGINT');
      setTimeout(() => exit === undefined && child.kill('SIGKILL'), 2000).unref();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const logs = new Map<number, { tail: LogTail; conv: LogConverter }>();
  const order: number[] = [];
  const pass = async (all: boolean): Promise<number> => {
    for (const f of await readdir(dir)) {
      const m = LOG.exec(f);
      if (!m) continue;
      const pid = Number(m[1]);
      if (logs.has(pid)) continue;
      const conv = new LogConverter(pid, emit, process.cwd(), pid !== child.pid, flags.fetches ? 'first' : 'drop');
      logs.set(pid, { conv, tail: new LogTail(path.join(dir, f), (l) => conv.line(l)) });
      order.push(pid);
    }
    let n = 0;
    // a child's log is read once its parent's fork record is out (the records stay in causal order)
    for (const pid of order) if (all || eligible.has(pid)) n += await logs.get(pid)!.tail.poll();
    await writer.drain();
    return n;
  };

  try {
    while (exit === undefined) if ((await pass(false)) === 0) await Promise.race([sleep(10), exited]);
    while ((await pass(false)) > 0);
    await pass(true); // children whose fork was never seen (a killed parent)
    for (const pid of order) {
      const { tail, conv } = logs.get(pid)!;
      await tail.close();
      conv.end();
    }
    const e = exit as { code: number | null; signal: NodeJS.Signals | null };
    const truncated = interrupted !== undefined || e.signal !== null;
    writer.write({
      t: 'end',
      pid: child.pid ?? 0,
      truncated,
      ...(e.code !== null && { status: e.code }),
      ...((e.signal ?? interrupted) && { signal: (e.signal ?? interrupted)! }),
    });
    await writer.close();
    if (spawnError) throw spawnError;
    let data = 0;
    let fetches = 0;
    for (const { conv } of logs.values()) {
      data += conv.stats.dataAccesses;
      fetches += conv.stats.fetches;
    }
    const how = e.signal ? `was killed by ${e.signal}` : `exited with status ${e.code}`;
    io.stderr.write(
      `mmsim: record: ${cmd.join(' ')} ${how}; ${writer.records} records (${data} data accesses, ${fetches} instruction fetches ${flags.fetches ? 'seen, the first of each page kept' : 'dropped'}, ${logs.size} process${logs.size === 1 ? '' : 'es'}) in ${out}${truncated ? ' (truncated)' : ''}\n`,
    );
    return interrupted ? 130 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(dir, { recursive: true, force: true });
  }
}
