import { describe, expect, it } from 'vitest';
import { createSystem, runScenario, ScenarioSchema, type MmSystem, type RunResult } from '@mmsim/core';
import { createHardware as x86 } from '@mmsim/hw-x86';
import { createHardware as arm64 } from '@mmsim/hw-arm64';
import { cpuTid, recordTrace, traceProblems, type ChromeTrace, type TraceOptions } from '../src/index.js';

/** Seed 000's forceswap with a spinning second thread: every COW copy and pageout IPIs cpu 1. */
function forceswap(rounds: number) {
  return ScenarioSchema.parse({
    name: 'forceswap',
    system: { swap: { synchronousIo: true } },
    steps: [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'thread', pid: 'p', cpu: 1, spin: true },
      { op: 'mmap', pid: 'p', name: 'buf', size: 4096 },
      { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 1 },
      {
        op: 'repeat',
        times: rounds,
        steps: [
          { op: 'madvise', pid: 'p', region: 'buf', advice: 'pageout', phase: 'pageout' },
          { op: 'access', pid: 'p', region: 'buf', access: 'read', phase: 'read' },
          { op: 'access', pid: 'p', region: 'buf', access: 'write', phase: 'write' },
        ],
      },
    ],
  });
}

/** A process writing `pages` pages, forking, and both writing them again (COW on every page). */
function forkWrite(pages: number) {
  return ScenarioSchema.parse({
    name: 'fork-write',
    steps: [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'thread', pid: 'p', cpu: 1, spin: true },
      { op: 'mmap', pid: 'p', name: 'buf', size: pages * 4096 },
      { op: 'touch', pid: 'p', region: 'buf', access: 'write', phase: 'populate' },
      { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
      { op: 'touch', pid: 'c', region: 'buf', access: 'write', phase: 'child' },
      { op: 'touch', pid: 'p', region: 'buf', access: 'write', phase: 'parent' },
    ],
  });
}

function traced(
  sys: MmSystem,
  sc: ReturnType<typeof forceswap>,
  opts?: TraceOptions,
): { r: RunResult; t: ChromeTrace; json: string } {
  const rec = recordTrace(sys, opts);
  const r = runScenario(sys, sc, { ...rec.runOptions });
  const json = JSON.stringify(rec.toJSON());
  return { r, t: JSON.parse(json) as ChromeTrace, json };
}

const x86Sys = () =>
  createSystem({ hardware: x86({ cpus: 2, profile: 'kvm-guest' }), config: { swap: { synchronousIo: true } } });
const arm64Sys = () => createSystem({ hardware: arm64({ cpus: 4 }), config: { swap: { synchronousIo: true } } });

const faultSlices = (t: ChromeTrace) => t.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'fault');

describe('recordTrace on x86 (forceswap, 2 threads)', () => {
  const { r, t } = traced(x86Sys(), forceswap(50));

  it('is a well-formed trace: nested slices, paired flows, named tracks, numeric counters', () => {
    expect(traceProblems(t)).toEqual([]);
    expect(t.displayTimeUnit).toBe('ns');
    expect(t.metadata.clock.GHz).toBe(3);
    for (const c of [0, 1]) {
      expect(t.traceEvents).toContainEqual(
        expect.objectContaining({ ph: 'M', name: 'thread_name', tid: cpuTid(c), args: { name: `cpu ${c}` } }),
      );
    }
  });

  it('one fault slice per pgfault, named by kind, with address, order and decision', () => {
    const fs = faultSlices(t);
    expect(fs.length).toBe(r.total.counters.pgfault);
    expect(t.metadata.counts.faultSlices).toBe(r.total.counters.pgfault);
    const copies = fs.filter((e) => e.name === 'wp-copy');
    expect(copies.length).toBe(r.total.counters.cow_copy);
    expect(copies[0]!.args).toMatchObject({ vpn: expect.stringMatching(/^0x[0-9a-f]+$/), order: 0, decision: 'copy' });
    expect(copies[0]!.args).toMatchObject({ write: true, unshare: false, outcome: 'ok', process: 'p' });
  });

  it('the COW copy contains its TLB flush, which IPIs cpu 1 (a flow to the handler slice)', () => {
    const ev = t.traceEvents;
    const copy = faultSlices(t).find((e) => e.name === 'wp-copy')!;
    const inCopy = (e: (typeof ev)[number]) =>
      e.tid === copy.tid && e.ts! >= copy.ts! && e.ts! + (e.dur ?? 0) <= copy.ts! + copy.dur!;
    const flush = ev.find((e) => e.ph === 'X' && e.cat === 'tlb' && inCopy(e))!;
    expect(flush.args).toMatchObject({ reason: 'wp_page_copy', ipis: 1 });
    expect(ev.some((e) => e.ph === 'i' && e.name === 'flush wp_page_copy' && inCopy(e))).toBe(true);
    const s = ev.find((e) => e.ph === 's' && inCopy(e))!;
    const f = ev.find((e) => e.ph === 'f' && e.id === s.id)!;
    expect(f.tid).toBe(cpuTid(1));
    const handler = ev.find((e) => e.ph === 'X' && e.cat === 'ipi' && e.tid === cpuTid(1) && e.ts! <= f.ts!)!;
    expect(handler.name).toBe('ipi: flush_tlb_func');
  });

  it('as many IPI handler slices and flows as ipi_sent', () => {
    const ipis = t.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'ipi');
    expect(ipis.length).toBe(r.total.counters.ipi_sent);
    expect(ipis.length).toBe(r.total.counters.nr_tlb_remote_flush_received);
    expect(t.traceEvents.filter((e) => e.ph === 's' && e.cat === 'ipi').length).toBe(ipis.length);
  });

  it('counter tracks: RSS per process, PageTables, MemUsed, SwapUsed, sampled at phase starts', () => {
    const cs = t.traceEvents.filter((e) => e.ph === 'C');
    const names = new Set(cs.map((e) => e.name));
    expect([...names].sort()).toEqual(['MemUsed (kB)', 'PageTables (kB)', 'RSS (kB)', 'SwapUsed (kB)']);
    const rss = cs.filter((e) => e.name === 'RSS (kB)');
    expect(rss.length).toBe(t.metadata.counterSamples);
    // 150 phase starts, one initial and one final sample
    expect(rss.length).toBe(152);
    expect(cs.filter((e) => e.name === 'SwapUsed (kB)').some((e) => e.args!.value === 4)).toBe(true);
    expect(rss.at(-1)!.args).toEqual({ p: 4 });
  });
});

describe('recordTrace on arm64 (broadcast TLBI)', () => {
  const { r, t } = traced(arm64Sys(), forkWrite(64));

  it('is well formed, one fault slice per pgfault, no IPI', () => {
    expect(traceProblems(t)).toEqual([]);
    expect(faultSlices(t).length).toBe(r.total.counters.pgfault);
    expect(t.traceEvents.some((e) => e.cat === 'ipi')).toBe(false);
    for (const c of [0, 1, 2, 3])
      expect(t.traceEvents.some((e) => e.name === 'thread_name' && e.tid === cpuTid(c))).toBe(true);
  });

  it('a COW flush flows to the initiator’s TLBI broadcast track', () => {
    const b = t.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'tlbi');
    expect(b.length).toBeGreaterThan(0);
    expect(b.some((e) => e.args!.reason === 'wp_page_copy')).toBe(true);
    const flows = t.traceEvents.filter((e) => e.ph === 'f' && e.cat === 'tlbi');
    expect(flows.length).toBe(b.length);
    expect(
      t.traceEvents.some((e) => e.ph === 'M' && e.name === 'thread_name' && e.args!.name === 'cpu 0: TLBI broadcast'),
    ).toBe(true);
  });
});

describe('bounded size', () => {
  it('100k faults: the file stays small, the cut is said in metadata, counters cover the run', () => {
    const sc = ScenarioSchema.parse({
      name: 'many-faults',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'buf', size: 100_000 * 4096 },
        { op: 'touch', pid: 'p', region: 'buf', access: 'write', phase: 'populate' },
      ],
    });
    const { r, t, json } = traced(x86Sys(), sc);
    expect(r.total.counters.pgfault).toBe(100_000);
    expect(traceProblems(t)).toEqual([]);
    const slices = faultSlices(t).length;
    expect(slices).toBeLessThanOrEqual(t.metadata.limits.maxEvents + 1000);
    expect(t.metadata.counts.faults).toBe(100_000);
    expect(t.metadata.truncated).not.toBeNull();
    expect(slices + t.metadata.dropped.slices).toBe(100_000);
    expect(json.length).toBeLessThan(6 * 1024 * 1024);
    // counters reach the end of the run (RSS 400 000 kB)
    const rss = t.traceEvents.filter((e) => e.name === 'RSS (kB)');
    expect(rss.at(-1)!.args).toEqual({ p: 400_000 });
    expect(rss.length).toBeLessThanOrEqual(t.metadata.limits.maxSamples + 1);
    console.log(
      `100k faults: ${(json.length / 1e6).toFixed(1)} MB, ${t.traceEvents.length} events, ${slices} fault slices`,
    );
  });

  it('a small maxEvents / maxSamples thins the samples and keeps a whole prefix', () => {
    const { t } = traced(x86Sys(), forceswap(500), { maxEvents: 200, maxSamples: 16 });
    expect(traceProblems(t)).toEqual([]);
    expect(t.traceEvents.filter((e) => e.ph !== 'M' && e.ph !== 'C').length).toBeLessThanOrEqual(1200);
    expect(t.metadata.counterSamples).toBeLessThanOrEqual(17);
    expect(t.metadata.dropped.slices).toBeGreaterThan(0);
  });
});
