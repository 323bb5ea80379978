import { describe, expect, it } from 'vitest';
import { createSystem, definePlugin, FlatHardware, runScenario, ScenarioSchema, type MmPlugin } from '../src/index.js';

// folio_pte_batch(): fork copies a large folio's PTEs in batches (copy_present_ptes(), v6.9) and
// zap clears them in batches (zap_present_ptes(), v6.10). The counters stay per PTE; the cost
// model charges pteCopy / pteUpdate per batch and pteCopyBatched / pteZapBatched per further PTE.
const thp: MmPlugin = definePlugin({
  name: 'thp-test',
  api: '^1.0.0',
  apply: (sys) => sys.hooks.fault.anonOrders.tap('thp-test', (o) => o | (1 << 9)),
});
/** fork.page says 'copy' for the page at offset `page` (as the refcount policy does for a maybe-pinned page) */
const copyPage = (page: number): MmPlugin =>
  definePlugin({
    name: 'copy-one',
    api: '^1.0.0',
    apply: (sys) => {
      let base = -1;
      sys.hooks.fork.page.tap('copy-one', (ctx) => {
        if (base < 0) base = ctx.address;
        return ctx.address === base + page ? 'copy' : undefined;
      });
    },
  });

// one 2 MiB THP, PTE-mapped by mprotect of its first page (__split_huge_pmd; the VMAs merge back)
const steps = [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'mmap', pid: 'p', name: 'a', size: '2MiB' },
  { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 7, phase: 'touch' },
  { op: 'mprotect', pid: 'p', region: 'a', size: '4KiB', prot: 'r', phase: 'ptemap' },
  { op: 'mprotect', pid: 'p', region: 'a', size: '4KiB', prot: 'rw', phase: 'ptemap' },
  { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
  { op: 'access', pid: 'c', region: 'a', offset: '1MiB', access: 'read', expect: 7, phase: 'child' },
  { op: 'exit', pid: 'c', phase: 'exit' },
  { op: 'munmap', pid: 'p', region: 'a', phase: 'munmap' },
];

function run(batch: boolean, policies: MmPlugin[] = [thp]) {
  const hw = new FlatHardware(2, { pteCopy: 4, pteCopyBatched: 3, pteUpdate: 5, pteZapBatched: 2 });
  const sys = createSystem({
    hardware: hw,
    policies,
    config: { features: { forkPteBatch: batch, zapPteBatch: batch } },
  });
  let atFork: { ref: number; largeMapcount: number; mapcounts: number[] } | undefined;
  sys.hooks.fork.done.tap('probe', (pmm) => {
    const k = sys.kernel;
    const v = pmm.vmas[0]!.start;
    const pfn = k.translate(pmm, v, false);
    const head = k.f.head(pfn);
    const mapcounts = Array.from({ length: 512 }, (_, i) => k.f.mapcount[head + i]!);
    atFork = { ref: k.f.ref[head]!, largeMapcount: k.f.largeMapcount[head]!, mapcounts };
  });
  const r = runScenario(sys, ScenarioSchema.parse({ name: 'pte-batch', steps }));
  return { r, atFork: atFork! };
}
const c = (r: ReturnType<typeof run>['r'], ph: string, n: string) => r.phases[ph]?.counters[n] ?? 0;

describe('batched PTE copy and zap of a PTE-mapped large folio', () => {
  for (const batch of [false, true]) {
    it(`${batch ? 'v6.10+ (batched)' : 'before v6.9 (per PTE)'}: counts per PTE, state identical`, () => {
      const { r, atFork } = run(batch);
      expect(c(r, 'ptemap', 'thp_split_pmd')).toBe(1);
      expect(c(r, 'fork', 'fork_pte_copy')).toBe(512);
      expect(c(r, 'fork', 'fork_page_copy')).toBe(0);
      // the parent's 512 mappings plus the child's: references and mapcounts are the same either way
      expect(atFork.largeMapcount).toBe(1024);
      expect(atFork.mapcounts.every((m) => m === 2)).toBe(true);
      expect(c(r, 'child', 'pgfault')).toBe(0);
      expect(r.checks.failed).toBe(0);
      // munmap of the whole folio: the batch removes all 512 mappings at once (folio_remove_rmap_ptes(512)),
      // so it is never partially mapped and no deferred split is queued; one PTE at a time, it is
      expect(c(r, 'munmap', 'thp_deferred_split_page')).toBe(batch ? 0 : 1);
      expect(c(r, 'munmap', 'pgfree')).toBe(512);
    });
  }

  it('fork cycles: one pteCopy per batch and pteCopyBatched for each further PTE (511 × (4 − 3) fewer)', () => {
    const off = run(false).r.phases.fork!.cycles;
    const on = run(true).r.phases.fork!.cycles;
    expect(off - on).toBe(511);
  });

  it('zap cycles: one pteUpdate per batch and pteZapBatched for each further PTE (511 × (5 − 2) fewer)', () => {
    const off = run(false).r.phases.munmap!.cycles;
    const on = run(true).r.phases.munmap!.cycles;
    expect(off - on).toBe(511 * 3);
  });

  it('a page that must be copied (maybe pinned) makes the batch fall back to one PTE at a time', () => {
    for (const batch of [false, true]) {
      const { r, atFork } = run(batch, [thp, copyPage(100)]);
      expect(c(r, 'fork', 'fork_pte_copy')).toBe(512);
      expect(c(r, 'fork', 'fork_page_copy')).toBe(1);
      expect(atFork.largeMapcount).toBe(1023);
      // no batch was taken: the cycles are those of 512 single copies
      expect(r.phases.fork!.cycles).toBe(run(false, [thp, copyPage(100)]).r.phases.fork!.cycles);
    }
  });
});
