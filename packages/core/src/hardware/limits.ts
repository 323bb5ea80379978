/**
 * Hardware limits every model shares: the number of CPUs and the size of the user address
 * space. docs/scenario-format.md "Limits" documents them.
 */
import type { HardwareModel } from './hardware.js';

/** CONFIG_NR_CPUS of the distribution kernels (x86-64 and arm64 both set 4096 or less). */
export const MAX_CPUS = 4096;

/**
 * The `cpus` hardware option, the same rule for flat, x86 and arm64: an integer from 1 to
 * MAX_CPUS. Returns it, or `dflt` when it is absent; throws otherwise (the composer names the
 * hardware and the file).
 */
export function checkCpus(v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_CPUS)
    throw new Error(`option "cpus" must be an integer from 1 to ${MAX_CPUS} (NR_CPUS), got ${JSON.stringify(v)}`);
  return v;
}

/** x86-64 TASK_SIZE_MAX with 4-level paging: 2^47 minus the guard page (128 TiB). */
export const X86_64_TASK_SIZE = 2 ** 47 - 4096;

/** arm64 TASK_SIZE_64 for VA_BITS: 2^VA_BITS (48 bits, 256 TiB, is the distribution default). */
export function arm64TaskSize(vaBits = 48): number {
  return 2 ** vaBits;
}

/** TASK_SIZE of a hardware model in bytes: its `taskSize`, or x86-64's (flat models x86). */
export function taskSizeOf(hw: Pick<HardwareModel, 'taskSize'>): number {
  return hw.taskSize ?? X86_64_TASK_SIZE;
}

/** "128 TiB", "1.5 GiB", "12 KiB": a byte count for messages. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const s = u === 0 ? String(v) : Number.isInteger(v) ? String(v) : v.toFixed(1).replace(/\.0$/, '');
  return `${s} ${units[u]}`;
}
