/**
 * Presets that model kernels with known §6 bugs on purpose. The checker finds each of these
 * within the CI budget (see test/historical.test.ts); every other preset must pass.
 */
export const HISTORICAL_PRESETS: Readonly<Record<string, string>> = Object.freeze({
  'linux-5.7':
    "mapcount reuse rule without GUP-side unsharing: a R/O pin of a page shared after fork leaks the other process's later writes (CVE-2020-29374, the vmsplice leak); a pin taken before fork loses the parent's writes (no early COW of pinned pages at fork until 70e806e4e645, v5.9)",
  'linux-5.8':
    "GUP breaks COW (17839856fd58) but fork still shares pinned pages: the parent's next write copies and its pin no longer sees it (fixed by 70e806e4e645 in v5.9)",
  'linux-5.9':
    "refcount rule without R/O-pin unsharing: a R/O pin of a shared page goes stale when its owner writes, and do_swap_page() still reuses by mapcount, so a pinned page swapped out and back in takes the other process's write (fixed by the COW fixes, v5.18/v5.19)",
  'linux-5.18':
    "COW fixes part 1 without PageAnonExclusive: a R/O pin of a page shared after fork (or a W pin after mprotect) goes stale on its owner's next write (fixed by PageAnonExclusive + GUP unsharing, v5.19)",
});

export function isHistorical(preset: string): boolean {
  return Object.hasOwn(HISTORICAL_PRESETS, preset);
}
