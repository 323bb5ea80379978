import { expect, test } from 'vitest';
import { createSystem, definePlugin, runScenario, ScenarioSchema } from '@mmsim/core';
import { createHardware } from '../src/index.js';

/*
 * arm64 tlb_flush() (arch/arm64/include/asm/tlb.h): stride = tlb_get_unmap_size(), level =
 * tlb_get_level(); a gather that cleared only a PMD (zap_huge_pmd → tlb_remove_pmd_tlb_entry)
 * is __flush_tlb_range(vma, start, end, PMD_SIZE, last_level, 2): one TLBI VAE1IS for the 2 MiB
 * (at PAGE_SIZE stride the 512 pages would reach MAX_DVM_OPS and flush the whole ASID).
 */
test.each([
  ['dontneed', 1, 0],
  // pmdp_invalidate() (flush_pmd_tlb_range: one TLBI at PMD stride) + the gather's one TLBI
  ['cold', 2, 0],
])('MADV_%s of a whole THP: %i TLBI VAE1IS, %i full flushes', (advice, tlbis, full) => {
  const thp = definePlugin({
    name: 'thp-test',
    api: '^1.0.0',
    apply: (sys) => sys.hooks.fault.anonOrders.tap('thp-test', (o) => o | (1 << 9)),
  });
  const sc = ScenarioSchema.parse({
    name: 'thp-gather',
    steps: [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'a', size: '2MiB', align: '2MiB' },
      { op: 'access', pid: 'p', region: 'a', access: 'write', value: 1 },
      { op: 'madvise', pid: 'p', region: 'a', advice, phase: 'x' },
    ],
  });
  const r = runScenario(createSystem({ hardware: createHardware({ cpus: 2 }), policies: [thp] }), sc, {
    file: 'thp-gather.json',
  });
  const c = r.phases.x!.counters;
  expect(c.tlbi_broadcast ?? 0).toBe(tlbis);
  expect(c.tlb_inval_full ?? 0).toBe(full);
  expect(c.tlb_inval_pages ?? 0).toBe(512 * tlbis);
});
