/**
 * renderReport(): one self-contained HTML page for a compare document. The Vega-Lite specs are
 * compiled to Vega here, in Node, and only the Vega runtime is inlined (no vega-lite, no vega-embed
 * in the page); a Content-Security-Policy with the hashes of the two inline scripts forbids any
 * other script, inline handler or network access.
 */
import { createHash } from 'node:crypto';
import { compile } from 'vega-lite';
import { BOOTSTRAP } from './bootstrap.js';
import { escapeHtml, jsonForScript, scriptText } from './escape.js';
import {
  buildModel,
  type CompareTable,
  compareTable,
  type ConfigGroup,
  formatDiff,
  formatNumber,
  formatRatio,
  type ModelOptions,
  policyText,
  type ReportModel,
} from './model.js';
import { vegaRuntime } from './runtime.js';
import { buildPlots, type PlotSpec } from './specs.js';
import type { CompareDocument } from './types.js';

export interface ReportOptions extends ModelOptions {
  /** page title (default: `mmsim compare: <scenario>`) */
  title?: string;
}

/** A plot compiled to Vega, as the page embeds it. */
export interface CompiledPlot {
  id: string;
  title: string;
  note: string;
  vega: unknown;
}

/** The report's plots as Vega specs (what renderReport embeds); useful for tests and other front ends. */
export function compilePlots(doc: CompareDocument, opts: ModelOptions = {}): CompiledPlot[] {
  return compileModelPlots(buildModel(doc, opts));
}

function compileModelPlots(model: ReportModel): CompiledPlot[] {
  return buildPlots(model).map((p: PlotSpec) => {
    // the $schema URL is documentation only; leaving it out keeps the page free of any address
    const { $schema: _, ...vega } = compile(p.spec).spec;
    return { id: p.id, title: p.title, note: p.note, vega };
  });
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The compare document as one offline HTML page (a string; write it with UTF-8). */
export function renderReport(compare: CompareDocument, opts: ReportOptions = {}): string {
  const model = buildModel(compare, opts);
  const plots = compileModelPlots(model);
  const table = compareTable(model);
  const runtime = scriptText(vegaRuntime().js);
  const title = opts.title ?? `mmsim compare: ${model.scenario || 'scenario'}`;
  // constants and base64 hashes only: nothing to escape
  const csp = [
    "default-src 'none'",
    // vega compiles its expressions with Function(): 'unsafe-eval'; no other script than these two
    `script-src ${sha256(runtime)} ${sha256(BOOTSTRAP)} 'unsafe-eval'`,
    "style-src 'unsafe-inline'",
    'img-src data:',
  ].join('; ');

  const seeds = [...new Set(model.groups.flatMap((g) => g.seeds))];
  const summary = [
    `${model.groups.length} configuration${model.groups.length === 1 ? '' : 's'}`,
    `baseline <strong>${escapeHtml(model.baseline.label)}</strong>${
      model.baselineFound
        ? ''
        : ` (the document's baseline ${escapeHtml(opts.baseline ?? compare.baseline)} matches no configuration: the first is used)`
    }`,
    `seed${seeds.length === 1 ? '' : 's'} ${escapeHtml(seeds.join(', '))}`,
  ];
  if (model.vars.length) summary.push(`swept ${model.vars.map((v) => escapeHtml(v.name)).join(', ')}`);

  const plotSections = plots
    .map(
      (p) => `<section class="plot" id="${p.id}">
<h2>${escapeHtml(p.title)}</h2>
<p class="note">${escapeHtml(p.note)}</p>
<div class="bindings" id="${p.id}-bind"></div>
<div class="view" id="${p.id}-view"></div>
</section>`,
    )
    .join('\n');
  const sweepNote =
    model.vars.length === 0
      ? '<p class="note">No variable was swept (<code>--var</code>): no line plot.</p>'
      : model.vars
          .filter((v) => v.values.length < 2)
          .map((v) => `<p class="note">${escapeHtml(v.name)} has a single value: no line plot.</p>`)
          .join('\n');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="@mmsim/report, vega ${escapeHtml(vegaRuntime().version)}">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="summary">${summary.join(' · ')}</p>
</header>
<main>
${plotSections}
${sweepNote}
<section id="table">
<h2>Table</h2>
<p class="note">Totals over the run${model.multiSeed ? ' (mean over seeds; hover a value for its range)' : ''}: value, ratio to the baseline and difference from it.</p>
${tableHtml(table, model)}
</section>
<section id="configs">
<h2>Configurations</h2>
${configsHtml(model)}
</section>
</main>
<script type="application/json" id="mmsim-report-plots">${jsonForScript(plots.map((p) => ({ id: p.id, vega: p.vega })))}</script>
<script>${runtime}</script>
<script>${BOOTSTRAP}</script>
</body>
</html>
`;
}

function tableHtml(t: CompareTable, model: ReportModel): string {
  const head1 = t.columns
    .map(
      (c, i) =>
        `<th colspan="3" scope="colgroup"${i === t.baseline ? ' class="baseline"' : ''}>${escapeHtml(c)}${
          i === t.baseline ? ' <span class="badge">baseline</span>' : ''
        }</th>`,
    )
    .join('');
  const head2 = t.columns.map(() => '<th>value</th><th>× base</th><th>Δ base</th>').join('');
  const body = t.rows
    .map((r) => {
      const cells = r.cells
        .map((c) => {
          const range =
            model.multiSeed && c.value.n > 1
              ? ` title="${escapeHtml(`${c.value.n} seeds: ${formatNumber(c.value.min)} … ${formatNumber(c.value.max)}`)}"`
              : '';
          const dir = c.diff > 0 ? ' up' : c.diff < 0 ? ' down' : '';
          return `<td class="num"${range}>${escapeHtml(formatNumber(c.value.mean))}</td><td class="num ratio${dir}">${escapeHtml(
            formatRatio(c.ratio),
          )}</td><td class="num diff${dir}">${escapeHtml(formatDiff(c.diff))}</td>`;
        })
        .join('');
      return `<tr class="${r.kind}"><th scope="row">${escapeHtml(r.metric)}</th>${cells}</tr>`;
    })
    .join('\n');
  return `<div class="scroll"><table class="compare">
<thead><tr><th rowspan="2" scope="col">metric</th>${head1}</tr><tr>${head2}</tr></thead>
<tbody>
${body}
</tbody>
</table></div>`;
}

function configsHtml(model: ReportModel): string {
  return model.groups
    .map((g: ConfigGroup) => {
      const facts = [
        `kernel ${g.kernel}`,
        `hardware ${g.hardware}`,
        `policies ${g.policies.length ? g.policies.map(policyText).join(', ') : 'none'}`,
        ...Object.entries(g.vars).map(([k, v]) => `${k}=${v}`),
      ];
      const runs = g.runs
        .map((c) => {
          const shown = c.result.config ?? c.result.system;
          return `<details>
<summary>${escapeHtml(c.label)} · seed ${escapeHtml(c.seed)}${g === model.baseline ? ' <span class="badge">baseline</span>' : ''}</summary>
<p class="note">${escapeHtml(facts.join(' · '))}; <code>${c.result.config ? 'result.config' : 'result.system'}</code>:</p>
<pre>${escapeHtml(JSON.stringify(shown, null, 2))}</pre>
</details>`;
        })
        .join('\n');
      return runs;
    })
    .join('\n');
}

const STYLE = `
:root { color-scheme: light; --fg: #1d232b; --muted: #5b6570; --rule: #d9dee3; --up: #a1260d; --down: #1a6b32; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #fff; }
header, main { max-width: 1100px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; border-bottom: 1px solid var(--rule); }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 4px; }
.summary, .note { color: var(--muted); margin: 4px 0 12px; }
.view { min-height: 40px; }
.bindings:empty { display: none; }
.bindings { margin: 0 0 8px; }
.bindings select { font: inherit; padding: 2px 4px; }
.plot-error { color: var(--up); font-weight: 600; }
.scroll { overflow-x: auto; border: 1px solid var(--rule); border-radius: 4px; }
table.compare { border-collapse: collapse; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.compare th, table.compare td { padding: 3px 8px; border-bottom: 1px solid var(--rule); }
table.compare thead th { background: #f4f6f8; text-align: center; font-weight: 600; }
table.compare tbody th { text-align: left; font-weight: 500; position: sticky; left: 0; background: #fff; }
table.compare td.num { text-align: right; }
table.compare td.ratio { border-left: 0; color: var(--muted); }
table.compare .up { color: var(--up); }
table.compare .down { color: var(--down); }
table.compare th.baseline { background: #e9edf1; }
table.compare tr.cycles th, table.compare tr.cycles td { border-top: 2px solid var(--rule); font-weight: 600; }
.badge { font-size: 11px; font-weight: 600; color: #fff; background: #6b7785; border-radius: 3px; padding: 0 4px; }
details { border: 1px solid var(--rule); border-radius: 4px; margin: 6px 0; padding: 4px 10px; }
summary { cursor: pointer; font-weight: 500; }
pre { overflow-x: auto; background: #f6f8fa; padding: 8px; border-radius: 4px; font-size: 12px; }
`;
