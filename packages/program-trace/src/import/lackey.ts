/**
 * Valgrind lackey logs made elsewhere (`valgrind --tool=lackey --trace-mem=yes
 * [--trace-syscalls=yes] --log-file=LOG CMD`), one process's log. With syscall lines the
 * records are those `mmsim record` makes (the same LogConverter); without them, accesses only,
 * with the mappings synthesized (synth-mmap.ts). Every line must be one valgrind writes.
 */
import path from 'node:path';
import { TraceFormatError } from '../errors.js';
import type { TraceHeader, TraceRecord } from '../records.js';
import { textLines } from './input.js';
import { LogConverter } from './lackey-converter.js';
import type { ImportedTrace } from './reader.js';
import { ChunkMapper } from './synth-mmap.js';

const ACCESS = /^(?: [LSM] |I {2})[0-9a-fA-F]+,\d+$/;
const BANNER = /^==(\d+)== (.*)$/;
const EXIT_CODE = /^Exit code:\s+(\d+)$/;

export const LACKEY_NOTES = [
  'imported from a valgrind lackey log: the address-space layout is valgrind’s (valgrind’s own mappings are not in the trace)',
  'instruction fetches (lackey I lines) are dropped: accesses are data loads and stores only; accesses carry no thread and no CPU',
];
export const LACKEY_SYSCALL_NOTES = [
  'mappings made before the first traced syscall (the executable, the stack, the vDSO) have no mmap record',
  'relative paths of opened files are resolved against / (the log does not say the working directory)',
];
export const LACKEY_MEM_NOTES = [
  'no syscall lines (--trace-syscalls=no): mappings are synthesized, one anonymous private rw mmap per 2 MiB-aligned chunk before its first access',
];

interface Scan {
  pid: number;
  cmd: string[];
  syscalls: boolean;
}

/** The first pass: the pid and command of the banner, and whether syscall lines are present (stops at the first). */
async function scan(file: string): Promise<Scan> {
  const s: Scan = { pid: 1, cmd: [path.basename(file)], syscalls: false };
  let banner = false;
  for await (const line of textLines(file)) {
    if (!banner) {
      const m = BANNER.exec(line);
      if (m?.[2]?.startsWith('Command: ')) {
        banner = true;
        s.pid = Number(m[1]);
        s.cmd = m[2].slice('Command: '.length).split(' ');
      }
    }
    if (line.startsWith('SYSCALL[')) {
      s.syscalls = true;
      break;
    }
  }
  return s;
}

export async function importLackey(file: string): Promise<ImportedTrace> {
  const s = await scan(file);
  const header: TraceHeader = {
    mmtrace: 1,
    cmd: s.cmd,
    pageSize: 4096,
    recorder: 'lackey-import',
    notes: [...LACKEY_NOTES, ...(s.syscalls ? LACKEY_SYSCALL_NOTES : LACKEY_MEM_NOTES)],
  };
  return { file, header, [Symbol.asyncIterator]: () => lackeyRecords(file, s) };
}

async function* lackeyRecords(file: string, s: Scan): AsyncGenerator<TraceRecord> {
  let out: TraceRecord[] = [];
  const maps = s.syscalls ? undefined : new ChunkMapper(s.pid);
  const emit = (r: TraceRecord) => {
    if (maps && r.t === 'access') {
      const m = maps.first(r.page);
      if (m) out.push(m);
    }
    out.push(r);
  };
  const conv = new LogConverter(s.pid, emit, '/');
  let lineNo = 0;
  let status: number | undefined;
  for await (const line of textLines(file)) {
    lineNo++;
    const c = line.charCodeAt(0);
    if (c === 73 /* I */ || (c === 32 /* space */ && !line.startsWith(' --> '))) {
      if (!ACCESS.test(line))
        throw new TraceFormatError(
          file,
          `line ${lineNo}`,
          undefined,
          `not a lackey access line: ${JSON.stringify(line.slice(0, 80))}`,
        );
    } else if (c === 61 /* = */) {
      const m = BANNER.exec(line);
      const e = m && EXIT_CODE.exec(m[2]!.trim());
      if (e) status = Number(e[1]);
    } else if (
      line !== '' &&
      !line.startsWith('SYSCALL[') &&
      !line.startsWith(' --> ') &&
      !line.startsWith('--') &&
      !line.startsWith('**')
    )
      throw new TraceFormatError(
        file,
        `line ${lineNo}`,
        undefined,
        `not a valgrind lackey log line: ${JSON.stringify(line.slice(0, 80))}`,
      );
    conv.line(line);
    if (out.length >= 4096) {
      const batch = out;
      out = [];
      yield* batch;
    }
  }
  conv.end();
  if (status !== undefined) out.push({ t: 'end', pid: s.pid, truncated: false, status });
  yield* out;
}
