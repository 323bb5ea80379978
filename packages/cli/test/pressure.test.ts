import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createSystem,
  mmapAnon,
  ScanControl,
  shrinkNode,
  SWAP_CLUSTER_MAX,
  userAccess,
  type HardwareModel,
} from '@mmsim/core';
import { createHardware as createX86 } from '@mmsim/hw-x86';
import { createHardware as createArm64 } from '@mmsim/hw-arm64';
import { fixture, mmsim } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const example = path.relative(process.cwd(), path.join(here, '../../../examples/pressure/pressure-64m.yaml'));

describe('system.memory: bad values are bad input (exit 2, naming file and field)', () => {
  it('memory: 0', async () => {
    const r = await mmsim('run', fixture('pressure/memory-zero.yaml'), '--json');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      'pressure/memory-zero.yaml: scenario field "system.memory": must not be 0 (omit the field for unlimited memory)',
    );
  });
  it('below the 4 MiB minimum', async () => {
    const r = await mmsim('run', fixture('pressure/memory-small.yaml'), '--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'pressure/memory-small.yaml: scenario field "system.memory": 2048 KiB is below the minimum of 4096 KiB (4 MiB)',
    );
  });
});

describe('out of memory with nothing to reclaim', () => {
  it('exits 1 with one line naming the step index and the op, no stack trace', async () => {
    const r = await mmsim('run', fixture('pressure/oom-noswap.yaml'), '--json');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(lines[0]).toMatch(/^mmsim: .*pressure\/oom-noswap\.yaml: steps\[3\]: op touch: out of memory: /);
    expect(r.stderr).toContain('the OOM killer picked "p"');
    expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  });
});

describe('examples/pressure/pressure-64m.yaml: 64 MiB of RAM, 256 MiB of swap, 128 MiB touched', () => {
  it('completes, swapping out and in, with the kernel counter names', async () => {
    const r = await mmsim('run', example, '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const fill = doc.phases.fill.counters;
    const reread = doc.phases.reread.counters;
    // 32768 pages touched; every page beyond what fits was reclaimed to swap, by kswapd or directly
    expect(fill.pgfault).toBe(32768);
    expect(fill.pswpout).toBe(fill.pgsteal_kswapd + fill.pgsteal_direct);
    expect(fill.pgscan_kswapd + fill.pgscan_direct).toBeGreaterThanOrEqual(fill.pswpout);
    expect(reread.pswpin).toBe(32768);
    expect(reread.workingset_refault_anon).toBe(32768);
    expect(doc.phases.reread.meminfo.MemTotal).toBe(65536);
    expect(doc.phases.fill.meminfo.MemFree).toBeGreaterThan(256 * 4); // above the min watermark
    // x86 costs: a fault is cheaper than kswapd's reclaim of a page, so direct reclaim joins in
    expect({ fill: pick(fill), reread: pick(reread) }).toEqual({
      fill: {
        pswpout: 16780,
        pswpin: 0,
        pgscan_kswapd: 19939,
        pgscan_direct: 28931,
        pgsteal_kswapd: 14821,
        pgsteal_direct: 1959,
        allocstall_normal: 35,
      },
      reread: {
        pswpout: 33033,
        pswpin: 32768,
        pgscan_kswapd: 48285,
        pgscan_direct: 16718,
        pgsteal_kswapd: 32838,
        pgsteal_direct: 195,
        allocstall_normal: 5,
      },
    });
  });
});

function pick(c: Record<string, number>): Record<string, number> {
  const names = [
    'pswpout',
    'pswpin',
    'pgscan_kswapd',
    'pgscan_direct',
    'pgsteal_kswapd',
    'pgsteal_direct',
    'allocstall_normal',
  ];
  return Object.fromEntries(names.map((n) => [n, c[n] ?? 0]));
}

// TLB reach and aging: folio_referenced() clears the accessed bits; an access that hits a
// cached translation does not set them again. x86's ptep_clear_flush_young() leaves the TLB
// alone, arm64's flushes the entry. Same steps on both: A and B (64 pages each) written, one
// reclaim pass over every page (all young: kept, bits cleared), A read again, a second pass.
describe('the accessed bit comes from the hardware model', () => {
  const second = (hardware: HardwareModel) => {
    const sys = createSystem({ hardware, config: { memoryPages: 16384, swap: { slots: 4096 } } });
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    const a = mmapAnon(k, p.mm, 64, 'a');
    const b = mmapAnon(k, p.mm, 64, 'b');
    const touchAll = (start: number, write: boolean) => {
      for (let i = 0; i < 64; i++) userAccess(k, p.main, start + i, write, 1);
    };
    const pass = () => {
      const sc = new ScanControl(false);
      sc.priority = 0;
      sc.nrToReclaim = SWAP_CLUSTER_MAX;
      shrinkNode(k, sc);
    };
    touchAll(a.start, true);
    touchAll(b.start, true);
    k.lruAddDrain(0);
    pass();
    touchAll(a.start, false);
    pass();
    const resident = (start: number) => {
      let n = 0;
      for (let i = 0; i < 64; i++) if (k.translate(p.mm, start + i, false) > 0) n++;
      return n;
    };
    return {
      pgactivate: sys.stats.get('pgactivate'),
      pswpout: sys.stats.get('pswpout'),
      a: resident(a.start),
      b: resident(b.start),
    };
  };
  it('x86: the re-read hits the TLB, A looks unused and goes first (the kernel accepts this)', () => {
    expect(second(createX86({ cpus: 1 }))).toEqual({ pgactivate: 0, pswpout: 32, a: 32, b: 64 });
  });
  it('arm64: the flush makes the re-read walk, A is young again and activated; B goes', () => {
    expect(second(createArm64({ cpus: 1 }))).toEqual({ pgactivate: 64, pswpout: 32, a: 64, b: 32 });
  });
});

describe('examples/pressure/seed003-redis.yaml: seed 003 under pressure (96 MiB dataset, 64 MiB RAM)', () => {
  const seed003 = path.relative(process.cwd(), path.join(here, '../../../examples/pressure/seed003-redis.yaml'));
  it('swap-cache device: v5.9 copies the hot pages still in the swap cache that v5.18 reuses', async () => {
    const r = await mmsim(
      'compare',
      seed003,
      '--kernel',
      'linux-5.9',
      '--kernel',
      'linux-5.18',
      '--set',
      'system.swap.synchronousIo=false',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const w = (k: string) => {
      const e = doc.configs.find((x: { kernel: string }) => x.kernel === k);
      expect(e.result.checks.failed).toBe(0);
      const c = e.result.phases.write.counters;
      return { pgfault: c.pgfault, pswpin: c.pswpin ?? 0, cow_copy: c.cow_copy ?? 0, pgreuse: c.pgreuse ?? 0 };
    };
    const v59 = w('linux-5.9');
    const v518 = w('linux-5.18');
    // every write fault of the hot third is a swap-in (mapped writable) or a wp fault on a page read in
    for (const v of [v59, v518]) expect(v.pswpin + v.cow_copy + v.pgreuse).toBe(8192);
    expect(v59.pgfault).toBe(8192);
    // the same reclaim history; only do_wp_page()'s rule differs
    expect(v59.pswpin).toBe(v518.pswpin);
    expect(v59.cow_copy).toBeGreaterThan(0);
    expect(v59.pgreuse).toBe(0);
    expect(v518.cow_copy).toBe(0);
    expect(v518.pgreuse).toBe(v59.cow_copy);
  });
});
