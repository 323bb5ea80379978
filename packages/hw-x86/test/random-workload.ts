/**
 * Random but always valid scenarios for the differential tests of the TLB structures
 * (tlb-differential.test.ts): processes, threads, forks, exits, accesses, touches, madvise,
 * mprotect, mremap and munmap over a few regions, on every CPU. A plain list of numbers drives
 * the choices (fast-check generates and shrinks it). hw-arm64's differential test imports it from here.
 */
import fc from 'fast-check';

interface Region {
  name: string;
  pages: number;
  prot: 'r' | 'rw' | 'none';
}

interface Proc {
  pid: string;
  cpus: number[];
  regions: Region[];
}

/** One abstract op: `kind` picks the step, the other numbers its arguments. */
export type RawOp = [kind: number, a: number, b: number, c: number, d: number];

export const rawOps = (max: number): fc.Arbitrary<RawOp[]> =>
  fc.array(fc.tuple(fc.nat(99), fc.nat(), fc.nat(), fc.nat(), fc.nat()), { minLength: 1, maxLength: max, size: 'max' });

/** fault.anonOrders for the regions: PMD THPs in `b*`, 64 KiB folios in `c*`, small pages elsewhere. */
export function anonOrders(vmaName: string): number {
  if (vmaName.startsWith('b')) return (1 << 9) | 1;
  if (vmaName.startsWith('c')) return (1 << 4) | 1;
  return 1;
}

const PAGE = 4096;

function mmapSteps(p: Proc, id: number): unknown[] {
  const out: unknown[] = [];
  const shapes: Array<[string, number, Record<string, unknown>]> = [
    [`a${id}`, 40, {}],
    [`b${id}`, 1024, { align: '2MiB', advice: 'hugepage' }],
    [`c${id}`, 96, { align: '64KiB' }],
  ];
  for (const [name, pages, extra] of shapes) {
    out.push({ op: 'mmap', pid: p.pid, name, size: pages * PAGE, ...extra });
    p.regions.push({ name, pages, prot: 'rw' });
  }
  return out;
}

/** Turn raw numbers into scenario steps for a machine of `ncpus` CPUs. */
export function workload(raw: readonly RawOp[], ncpus: number): { name: string; steps: unknown[] } {
  const procs: Proc[] = [{ pid: 'p0', cpus: [0], regions: [] }];
  let nextPid = 1;
  let nextRegion = 1;
  let value = 1;
  const steps: unknown[] = [{ op: 'spawn', pid: 'p0', cpu: 0 }, ...mmapSteps(procs[0]!, 0)];
  for (const [kind, a, b, c, d] of raw) {
    const p = procs[a % procs.length]!;
    const cpu = p.cpus[b % p.cpus.length]!;
    const usable = p.regions.filter((r) => r.prot !== 'none');
    const r = p.regions.length > 0 ? p.regions[c % p.regions.length]! : undefined;
    const off = r ? d % r.pages : 0;
    const len = r ? 1 + ((d >>> 10) % (r.pages - off)) : 0;
    if (kind < 30) {
      // touch a run of pages (read or write, sequential or random order)
      const u = usable.length > 0 ? usable[c % usable.length]! : undefined;
      if (!u) continue;
      // few start points, so that later touches hit what earlier ones cached
      const o = Math.floor(((d % 16) * u.pages) / 16);
      const n = 1 + ((d >>> 10) % Math.min(80, u.pages - o));
      const write = u.prot === 'rw' && (kind & 1) === 0;
      steps.push({
        op: 'touch',
        pid: p.pid,
        cpu,
        region: u.name,
        offset: o * PAGE,
        size: n * PAGE,
        access: write ? 'write' : 'read',
        ...(kind % 7 === 0 ? { pattern: 'random' } : {}),
        ...(write ? { value: value++ } : {}),
      });
    } else if (kind < 50) {
      const u = usable.length > 0 ? usable[c % usable.length]! : undefined;
      if (!u) continue;
      const write = u.prot === 'rw' && (kind & 1) === 0;
      steps.push({
        op: 'access',
        pid: p.pid,
        cpu,
        region: u.name,
        offset: ((Math.floor(((d % 16) * u.pages) / 16) + ((d >>> 4) % 8)) % u.pages) * PAGE,
        access: write ? 'write' : 'read',
        ...(write ? { value: value++ } : {}),
      });
    } else if (kind < 56) {
      if (procs.length >= 9) continue;
      const child: Proc = {
        pid: `p${nextPid++}`,
        cpus: [cpu],
        regions: p.regions.map((x) => ({ ...x })),
      };
      steps.push({ op: 'fork', pid: p.pid, cpu, child: child.pid });
      procs.push(child);
    } else if (kind < 60) {
      if (procs.length >= 9) continue;
      const q: Proc = { pid: `p${nextPid++}`, cpus: [b % ncpus], regions: [] };
      steps.push({ op: 'spawn', pid: q.pid, cpu: q.cpus[0] });
      steps.push(...mmapSteps(q, nextRegion++));
      procs.push(q);
    } else if (kind < 64) {
      const t = d % ncpus;
      if (p.cpus.includes(t)) continue;
      steps.push({ op: 'thread', pid: p.pid, cpu: t, spin: (kind & 1) === 0 });
      p.cpus.push(t);
    } else if (kind < 67) {
      if (p.pid === 'p0') continue;
      steps.push({ op: 'exit', pid: p.pid });
      procs.splice(procs.indexOf(p), 1);
    } else if (kind < 80) {
      if (!r) continue;
      const advice = ['dontneed', 'pageout', 'cold', 'dontneed'][kind & 3]!;
      steps.push({ op: 'madvise', pid: p.pid, cpu, region: r.name, offset: off * PAGE, size: len * PAGE, advice });
    } else if (kind < 92) {
      if (!r) continue;
      // a whole region, so that the tracked protection stays exact
      const prot = (['r', 'rw', 'rw', 'none'] as const)[kind & 3]!;
      steps.push({ op: 'mprotect', pid: p.pid, cpu, region: r.name, prot });
      r.prot = prot;
    } else if (kind < 96) {
      if (!r) continue;
      const to = `m${nextRegion++}`;
      steps.push({ op: 'mremap', pid: p.pid, cpu, region: r.name, to });
      r.name = to;
    } else {
      if (!r || p.regions.length < 2) continue;
      steps.push({ op: 'munmap', pid: p.pid, cpu, region: r.name });
      p.regions.splice(p.regions.indexOf(r), 1);
    }
  }
  return { name: 'tlb-differential', steps };
}
