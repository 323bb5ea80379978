/** The KernelConfig overrides a `system` block writes (thp, swap, memory, lruBatchSize). */
import {
  KHUGEPAGED_DEFAULTS,
  MIN_MEMORY_PAGES,
  parseSize,
  PAGE_SIZE,
  type SystemOptions,
  type SystemSpec,
  type ThpMode,
} from '@mmsim/core';
import { systemError } from './errors.js';

export type ConfigOverrides = NonNullable<SystemOptions['config']>;

/** The KernelConfig overrides written in the scenario (thp, swap, memory, lruBatchSize). */
export function kernelConfig(s: SystemSpec, file: string): ConfigOverrides {
  const config: ConfigOverrides = {};
  if (s.lruBatchSize !== undefined) config.lruBatchSize = s.lruBatchSize;
  if (s.memory !== undefined) {
    const n = pages(s.memory, file, 'system.memory');
    if (n === 0) throw systemError(file, 'system.memory', 'must not be 0 (omit the field for unlimited memory)');
    if (n < MIN_MEMORY_PAGES)
      throw systemError(
        file,
        'system.memory',
        `${n * 4} KiB is below the minimum of ${MIN_MEMORY_PAGES * 4} KiB (${(MIN_MEMORY_PAGES * 4) / 1024} MiB)`,
      );
    config.memoryPages = n;
  }
  if (s.cgroups) config.cgroups = cgroupsConfig(s.cgroups, file);
  if (s.cgroups && Object.keys(s.cgroups).length > 0 && s.vm?.lruGen === true)
    throw systemError(
      file,
      'system.vm.lruGen',
      'the multi-gen LRU with memory cgroups is not modelled yet (per-memcg generations): drop one of system.vm.lruGen and system.cgroups',
    );
  if (s.vm) config.vm = { ...s.vm };
  if (s.swap) {
    const swap: NonNullable<ConfigOverrides['swap']> = {};
    if (s.swap.synchronousIo !== undefined) swap.synchronousIo = s.swap.synchronousIo;
    if (s.swap.size !== undefined) swap.slots = pages(s.swap.size, file, 'system.swap.size');
    config.swap = swap;
  }
  if (s.thp) config.thp = thpConfig(s.thp, file);
  if (s.khugepaged) {
    const h = s.khugepaged;
    const d = KHUGEPAGED_DEFAULTS;
    config.khugepaged = {
      pagesToScan: h.pages_to_scan ?? d.pagesToScan,
      maxPtesNone: h.max_ptes_none ?? d.maxPtesNone,
      maxPtesSwap: h.max_ptes_swap ?? d.maxPtesSwap,
      maxPtesShared: h.max_ptes_shared ?? d.maxPtesShared,
      defrag: h.defrag === undefined ? d.defrag : h.defrag === 1,
    };
  }
  if (s.ksm) {
    // /sys/kernel/mm/ksm at boot (core's kernel/ksm-state.ts KsmConfig)
    const b = (v: boolean | 0 | 1) => v === true || v === 1;
    const k: NonNullable<ConfigOverrides['ksm']> = {};
    if (s.ksm.run !== undefined) k.run = s.ksm.run;
    if (s.ksm.pages_to_scan !== undefined) k.pages_to_scan = s.ksm.pages_to_scan;
    if (s.ksm.use_zero_pages !== undefined) k.use_zero_pages = b(s.ksm.use_zero_pages);
    if (s.ksm.max_page_sharing !== undefined) k.max_page_sharing = s.ksm.max_page_sharing;
    if (s.ksm.smart_scan !== undefined) k.smart_scan = b(s.ksm.smart_scan);
    config.ksm = k;
  }
  return config;
}

/** `cgroups: { redis: { max: 256MiB, high: 200MiB, swapMax: max } }`: pages, "max" = unlimited. */
function cgroupsConfig(
  cgroups: NonNullable<SystemSpec['cgroups']>,
  file: string,
): NonNullable<ConfigOverrides['cgroups']> {
  const out: NonNullable<ConfigOverrides['cgroups']> = [];
  const limit = (v: number | string | undefined, field: string): number => {
    if (v === undefined || v === 'max') return Number.POSITIVE_INFINITY;
    const n = pages(v, file, field);
    if (n < 0) throw systemError(file, field, `must not be negative (${JSON.stringify(v)})`);
    return n;
  };
  for (const [name, c] of Object.entries(cgroups)) {
    const at = `system.cgroups.${name}`;
    out.push({
      name,
      max: limit(c.max, `${at}.max`),
      high: limit(c.high, `${at}.high`),
      swapMax: limit(c.swapMax, `${at}.swapMax`),
    });
  }
  if (out.length > 1000) throw systemError(file, 'system.cgroups', `${out.length} cgroups: at most 1000`);
  return out;
}

function pages(v: number | string, file: string, field: string): number {
  const bytes = parseSize(v);
  if (Number.isNaN(bytes)) throw systemError(file, field, `not a size: ${JSON.stringify(v)}`);
  if (bytes % PAGE_SIZE !== 0) throw systemError(file, field, `${bytes} is not a multiple of ${PAGE_SIZE}`);
  return bytes / PAGE_SIZE;
}

/**
 * `thp: { top: never, 2048K: always, 64K: madvise }`. Keys are "top" (the global switch) or
 * a folio size, normalised to sysfs's `<n>K` spelling ("2M" and "2MiB" become "2048K").
 */
export function thpConfig(thp: Record<string, ThpMode>, file: string): Record<string, ThpMode> {
  const out: Record<string, ThpMode> = {};
  for (const [key, mode] of Object.entries(thp)) {
    if (key === 'top' || key === 'enabled') {
      out.top = mode;
      continue;
    }
    const bytes = parseSize(key);
    const pagesN = bytes / PAGE_SIZE;
    if (
      Number.isNaN(bytes) ||
      !Number.isInteger(pagesN) ||
      pagesN < 2 ||
      pagesN > 512 ||
      (pagesN & (pagesN - 1)) !== 0
    ) {
      throw systemError(
        file,
        `system.thp.${key}`,
        `not a THP size: use "top" or a power-of-two size from 8K to 2048K (e.g. "64K", "2048K")`,
      );
    }
    out[`${bytes / 1024}K`] = mode;
  }
  return out;
}
