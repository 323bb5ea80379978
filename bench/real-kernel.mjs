// The same fault paths on this machine's real kernel: tools/realkernel/faults.c `time` scenario
// (first touch, fork per PTE, the child's writes, the parent's writes after the child exited;
// 4 KiB pages), compiled with `cc -O2` into the temporary directory. ns per page, one sample a call.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonOf } from './stats.mjs';

const source = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../tools/realkernel/faults.c');

/** the compiled faults binary (rebuilt when faults.c is newer), or an Error saying why not */
export function faultsBinary() {
  const bin = path.join(tmpdir(), 'mmsim-bench-faults');
  try {
    if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(source).mtimeMs)
      execFileSync(process.env.CC ?? 'cc', ['-O2', '-o', bin, source], { stdio: ['ignore', 'ignore', 'pipe'] });
    return bin;
  } catch (e) {
    return new Error(`cannot compile tools/realkernel/faults.c with cc -O2: ${String(e.stderr ?? e.message).trim()}`);
  }
}

/** one sample: { pages, ns: { touch, fork, cow, reuse }, minflt } for `pages` 4 KiB pages */
export function realSample(bin, pages) {
  return jsonOf(bin, ['time', String(Math.max(1, Math.round((pages * 4096) / 2 ** 20)))]);
}

export function kernelRelease() {
  try {
    return execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}
