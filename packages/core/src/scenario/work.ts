/**
 * Work units for progress reports: one per leaf step plus one per page a `touch` visits, so a
 * single touch of 64 GiB moves the progress bar too. The total is estimated from the step tree
 * before the run, following the region sizes its mmap / mremap / fork steps give.
 */
import { PAGE_SIZE, parseSize } from '../units.js';
import type { Step } from './schema.js';

type Regions = Map<string, Map<string, number>>;

const bytes = (v: number | string | undefined): number => (v === undefined ? Number.NaN : parseSize(v));

/** Pages of [offset, offset + size) of a region, or NaN when not known statically. */
function rangePages(
  regions: Regions,
  s: { pid: string; region: string; offset?: number | string | undefined; size?: number | string | undefined },
): number {
  const pages = regions.get(s.pid)?.get(s.region);
  if (pages === undefined) return Number.NaN;
  const off = s.offset === undefined ? 0 : bytes(s.offset);
  const size = s.size === undefined ? pages * PAGE_SIZE - off : bytes(s.size);
  return size / PAGE_SIZE;
}

function walk(steps: readonly Step[], regions: Regions): number {
  let n = 0;
  for (const s of steps) {
    switch (s.op) {
      case 'repeat':
        n += s.times * walk(s.steps, regions);
        continue;
      case 'spawn':
        regions.set(s.pid, new Map());
        break;
      case 'fork':
        regions.set(s.child, new Map(regions.get(s.pid)));
        break;
      case 'mmap': {
        const b = bytes(s.size);
        if (b > 0) regions.get(s.pid)?.set(s.name, Math.ceil(b / PAGE_SIZE));
        break;
      }
      case 'mremap': {
        const p = s.newSize === undefined ? rangePages(regions, s) : Math.ceil(bytes(s.newSize) / PAGE_SIZE);
        if (p > 0 && s.to !== undefined) regions.get(s.pid)?.set(s.to, p);
        break;
      }
      case 'accesses':
        n += s.refs.length;
        break;
      case 'touch': {
        const pages = regions.get(s.pid)?.get(s.region);
        if (pages === undefined) break;
        const off = s.offset === undefined ? 0 : bytes(s.offset);
        const size = s.size === undefined ? pages * PAGE_SIZE - off : bytes(s.size);
        const stride = s.stride === undefined ? PAGE_SIZE : bytes(s.stride);
        const visits = Math.ceil(size / stride);
        if (visits > 0) n += visits;
        break;
      }
      default:
        break;
    }
    n++;
  }
  return n;
}

/** Leaf steps plus the pages touches visit (repeats multiplied out), as far as the step tree tells. */
export function countWork(steps: readonly Step[]): number {
  return walk(steps, new Map());
}
