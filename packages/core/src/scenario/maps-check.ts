/** Compares a `maps` step's listing with its `expect` (docs/scenario-format.md, "maps"). */
import type { SmapsEntry } from '../kernel/proc-maps.js';
import { PAGE_SIZE, parseSize } from '../units.js';
import type { MapsVmaExpect } from './schema.js';

const SIZES = [
  'rss',
  'anonymous',
  'anonHugePages',
  'swap',
  'sharedClean',
  'sharedDirty',
  'privateClean',
  'privateDirty',
  'locked',
  'lazyFree',
] as const;

/** One message per mismatch: `what` names the check (count, vma i). */
export function mapsMismatches(
  vmas: SmapsEntry[],
  want: { count?: number | undefined; vmas?: MapsVmaExpect[] | undefined },
  starts: number[],
): Array<{ what: string; message: string }> {
  const out: Array<{ what: string; message: string }> = [];
  if (want.count !== undefined && vmas.length !== want.count)
    out.push({ what: 'count', message: `${vmas.length} VMAs, expected ${want.count}` });
  const list = want.vmas ?? [];
  if (list.length > 0 && list.length !== vmas.length && want.count === undefined)
    out.push({ what: 'count', message: `${vmas.length} VMAs, expect.vmas lists ${list.length}` });
  for (let i = 0; i < list.length; i++) {
    const w = list[i]!;
    const g = vmas[i];
    if (!g) continue;
    const bad: string[] = [];
    if (starts[i]! >= 0 && g.start !== starts[i])
      bad.push(`starts ${g.start - starts[i]!} pages from the expected start`);
    if (w.size !== undefined && (g.end - g.start) * PAGE_SIZE !== parseSize(w.size))
      bad.push(`size ${(g.end - g.start) * PAGE_SIZE}, expected ${parseSize(w.size)}`);
    if (w.perms !== undefined && g.perms !== w.perms) bad.push(`perms ${g.perms}, expected ${w.perms}`);
    for (const f of SIZES) {
      const x = w[f];
      if (x !== undefined && g[f] * PAGE_SIZE !== parseSize(x))
        bad.push(`${f} ${g[f] * PAGE_SIZE}, expected ${parseSize(x)}`);
    }
    if (w.thpEligible !== undefined && g.thpEligible !== w.thpEligible)
      bad.push(`thpEligible ${g.thpEligible}, expected ${w.thpEligible}`);
    if (w.vmFlags !== undefined && g.vmFlags !== w.vmFlags) bad.push(`vmFlags "${g.vmFlags}", expected "${w.vmFlags}"`);
    if (bad.length > 0) out.push({ what: `vma ${i}`, message: bad.join('; ') });
  }
  return out;
}
