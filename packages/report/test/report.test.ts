import { describe, expect, it } from 'vitest';
import {
  buildModel,
  compareTable,
  compilePlots,
  escapeHtml,
  formatDiff,
  formatNumber,
  formatRatio,
  jsonForScript,
  renderReport,
} from '../src/index.js';
import { loadFixture, makeCompare, XSS } from './fixture.js';

/** The text of the page's JSON data element, parsed. */
function embedded(html: string): Array<{ id: string; vega: unknown }> {
  const m = /<script type="application\/json" id="mmsim-report-plots">([\s\S]*?)<\/script>/.exec(html);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]!);
}

/** Every string of a Vega spec that Vega reads as an expression. */
function expressions(spec: unknown, out: string[] = [], key = ''): string[] {
  if (typeof spec === 'string') {
    if (['expr', 'signal', 'update', 'test', 'init', 'filter', 'calculate'].includes(key)) out.push(spec);
  } else if (Array.isArray(spec)) for (const x of spec) expressions(x, out, key);
  else if (spec && typeof spec === 'object') for (const [k, v] of Object.entries(spec)) expressions(v, out, k);
  return out;
}

describe('escaping', () => {
  it('escapes HTML text and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
  it('writes JSON a <script> cannot be broken out of, with the same value once parsed', () => {
    const v = { s: `</script><!-- & \u2028\u2029 <b>` };
    const text = jsonForScript(v);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(v);
  });
});

describe('model and table', () => {
  it('groups configurations over seeds and keeps the baseline', () => {
    const doc = makeCompare({ seeds: [1, 2, 3], label: (c, seed) => `${c.label} seed=${seed}` });
    const m = buildModel(doc);
    expect(m.groups.map((g) => g.label)).toEqual(loadFixture().configs.map((c) => c.label));
    expect(m.groups.every((g) => g.seeds.join() === '1,2,3')).toBe(true);
    expect(m.baseline.label).toBe('linux-5.8/x86 rounds=250');
    expect(m.baselineFound).toBe(true);
    expect(m.multiSeed).toBe(true);
    expect(m.vars).toEqual([{ name: 'rounds', values: ['250', '500', '1000'], numeric: true }]);
    expect(m.phases).toEqual(['main', 'pageout', 'read', 'write']);
  });

  it('computes value, ratio and difference against the baseline from the documents', () => {
    const doc = makeCompare({ sweep: false });
    const [b, c] = doc.configs;
    const t = compareTable(buildModel(doc));
    expect(t.columns).toEqual(['linux-5.8/x86', 'linux-5.9/x86']);
    const pgfault = t.rows.find((r) => r.metric === 'pgfault')!;
    const bv = b!.result.total.counters.pgfault!;
    const cv = c!.result.total.counters.pgfault!;
    expect(pgfault.cells[0]).toMatchObject({ value: { mean: bv, n: 1 }, ratio: 1, diff: 0 });
    expect(pgfault.cells[1]).toMatchObject({ value: { mean: cv }, ratio: cv / bv, diff: cv - bv });
    const cycles = t.rows.find((r) => r.metric === 'cycles')!;
    expect(cycles.cells[1]!.value.mean).toBe(c!.result.total.cycles);
    expect(t.rows.filter((r) => r.kind === 'phase-cycles').map((r) => r.metric)).toEqual([
      'cycles: main',
      'cycles: pageout',
      'cycles: read',
      'cycles: write',
    ]);
    // a counter only the 5.9 run has: no ratio against a zero baseline
    const only = Object.keys(c!.result.total.counters).find((k) => !(k in b!.result.total.counters));
    if (only) expect(t.rows.find((r) => r.metric === only)!.cells[1]!.ratio).toBeUndefined();
  });

  it('averages over seeds', () => {
    const doc = makeCompare({ sweep: false, seeds: [1, 2], jitter: 0.1 });
    const t = compareTable(buildModel(doc));
    const cyc = t.rows.find((r) => r.metric === 'cycles')!.cells[0]!.value;
    const xs = doc.configs.slice(0, 2).map((c) => c.result.total.cycles);
    expect(cyc).toEqual({ mean: (xs[0]! + xs[1]!) / 2, min: Math.min(...xs), max: Math.max(...xs), n: 2 });
  });

  it('formats numbers as the CLI does', () => {
    expect(formatNumber(1234567)).toBe('1,234,567');
    expect(formatNumber(-1234.56)).toBe('-1,234.6');
    expect(formatRatio(1.2345)).toBe('1.23×');
    expect(formatRatio(undefined)).toBe('–');
    expect(formatDiff(1500)).toBe('+1,500');
    expect(formatDiff(-2)).toBe('-2');
    expect(formatDiff(0)).toBe('0');
  });

  it('honours --counters and --baseline', () => {
    const m = buildModel(makeCompare({ sweep: false }), { counters: ['pswpin', 'pgfault'], baseline: 'linux-5.9/x86' });
    expect(m.counters).toEqual(['pswpin', 'pgfault']);
    expect(m.baseline.label).toBe('linux-5.9/x86');
  });

  it('refuses what is not a compare document', () => {
    expect(() => renderReport({} as never)).toThrow(/configs/);
    expect(() => renderReport({ baseline: 'x', configs: [{ label: 'x' }] } as never)).toThrow(/result/);
  });
});

describe('renderReport', () => {
  it('is one offline page: the Vega runtime inline, no external resource', () => {
    const html = renderReport(makeCompare({ seeds: [1, 2, 3], jitter: 0.05 }));
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<iframe|<img|<object|<embed/i);
    expect(html).toContain("default-src 'none'");
    expect(html.match(/<script\b/g)).toHaveLength(3);
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(Buffer.byteLength(html)).toBeLessThan(700 * 1024);
  });

  it('builds the plots: counters, per-phase cycles, and the sweep with error bars when there are seeds', () => {
    const one = compilePlots(makeCompare());
    expect(one.map((p) => p.id)).toEqual(['plot-counters', 'plot-cycles', 'plot-sweep-0']);
    const many = compilePlots(makeCompare({ seeds: [1, 2, 3], jitter: 0.05 }));
    const sweep = JSON.stringify(many.find((p) => p.id === 'plot-sweep-0')!.vega);
    expect(sweep).toContain('"type":"rule"');
    expect(JSON.stringify(one.find((p) => p.id === 'plot-sweep-0')!.vega)).not.toContain('"type":"rule"');
    const flat = renderReport(makeCompare({ sweep: false }));
    expect(embedded(flat).map((p) => p.id)).toEqual(['plot-counters', 'plot-cycles']);
    expect(flat).toContain('No variable was swept');
  });

  it('draws a non-numeric variable as an ordinal axis', () => {
    const doc = makeCompare();
    for (const c of doc.configs) c.vars = { rounds: `r${c.vars.rounds}` };
    const m = buildModel(doc);
    expect(m.vars[0]).toEqual({ name: 'rounds', values: ['r250', 'r500', 'r1000'], numeric: false });
    expect(JSON.stringify(compilePlots(doc)[2]!.vega)).toContain('"type":"point"');
  });

  it('shows each configuration: result.config when present, else system', () => {
    const doc = makeCompare({ sweep: false });
    doc.configs[1]!.result.config = { mmsimVersion: '0.1.0', preset: { name: 'linux-5.9' } };
    const html = renderReport(doc);
    expect(html.match(/<details>/g)).toHaveLength(2);
    expect(html).toContain('&quot;mmsimVersion&quot;: &quot;0.1.0&quot;');
    expect(html).toContain('&quot;policy-refcount(mapcount)&quot;');
  });

  it('escapes every string from the document', () => {
    const doc = makeCompare({ seeds: [1, 2], inject: XSS });
    const html = renderReport(doc, { title: `t${XSS}` });
    expect(html).not.toContain(XSS);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<[a-z][^>]*\sonerror=/i);
    expect(html.match(/<script\b/g)).toHaveLength(3);
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(html).toContain('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    // the data element parses back to the exact strings
    const data = JSON.stringify(embedded(html));
    expect(data).toContain(JSON.stringify(`linux-5.8/x86 rounds=250${XSS}`).slice(1, -1));
    expect(data).toContain(JSON.stringify(`pgfault${XSS}`).slice(1, -1));
    expect(data).toContain(JSON.stringify(`read${XSS}`).slice(1, -1));
  });

  it('never puts a string from the document into a Vega expression', () => {
    const plots = compilePlots(makeCompare({ seeds: [1, 2], inject: XSS }));
    const exprs = plots.flatMap((p) => expressions(p.vega));
    expect(exprs.length).toBeGreaterThan(0);
    for (const e of exprs) {
      expect(e).not.toContain('onerror');
      expect(e).not.toContain('script');
    }
  });
});
