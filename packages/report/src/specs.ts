/**
 * The report's plots as Vega-Lite specs built from the model. Strings from the document (labels,
 * counter and phase names, variable values) only ever appear as data values, titles or select
 * labels, never inside a Vega expression: the data uses fixed field names, and the counter selector
 * selects by index. (Vega-Lite writes the encodings' titles into tooltip and ARIA-description
 * expressions: those are fixed words; a variable's name is only the axis's own title.)
 */
import type { TopLevelSpec } from 'vega-lite';
import {
  type ConfigGroup,
  formatNumber,
  formatRatio,
  phaseCycles,
  type ReportModel,
  type Stat,
  stat,
  totalCounter,
  totalCycles,
} from './model.js';
import type { RunDocument } from './types.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 560;
const BAR_STEP = 22;
/** the value axis's title (every layer on that axis gives the same one, so Vega-Lite does not join them) */
const TOTAL = 'total over the run';
const FONT = 'system-ui, -apple-system, "Segoe UI", sans-serif';

/** One plot of the report: a DOM id, a heading and its Vega-Lite spec. */
export interface PlotSpec {
  id: string;
  title: string;
  /** a sentence under the heading */
  note: string;
  spec: TopLevelSpec;
}

const config = {
  font: FONT,
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  view: { stroke: null },
};

/** How a seed range is described under a plot. */
const rangeNote = (m: ReportModel) =>
  m.multiSeed ? ' Values are the mean over seeds; error bars span the minimum to the maximum.' : '';

/** Numeric x position for a variable value; strings for non-numeric variables. */
const xValue = (axis: { numeric: boolean }, v: string | number) => (axis.numeric ? Number(v) : String(v));

export function buildPlots(model: ReportModel): PlotSpec[] {
  const plots: PlotSpec[] = [];
  if (model.counters.length > 0) plots.push(countersPlot(model));
  plots.push(cyclesPlot(model));
  model.vars.forEach((axis, i) => {
    if (axis.values.length >= 2) plots.push(sweepPlot(model, i));
  });
  return plots;
}

function counterRow(model: ReportModel, g: ConfigGroup, m: number, s: Stat) {
  const base = stat(model.baseline, totalCounter(model.counters[m]!)).mean;
  return {
    g: g.index,
    config: g.label,
    base: g === model.baseline,
    m,
    mean: s.mean,
    lo: s.min,
    hi: s.max,
    n: s.n,
    text: `${formatNumber(s.mean)}  ${formatRatio(base === 0 ? undefined : s.mean / base)}`,
  };
}

/** Per-counter bars, one bar per configuration, a selector over the counters. */
function countersPlot(model: ReportModel): PlotSpec {
  const rows = model.counters.flatMap((c, m) =>
    model.groups.map((g) => counterRow(model, g, m, stat(g, totalCounter(c)))),
  );
  const y = { field: 'config', type: 'nominal', sort: { field: 'g', op: 'min' }, title: null } as const;
  const spec = {
    $schema: SCHEMA,
    config,
    width: WIDTH,
    height: { step: BAR_STEP },
    params: [
      {
        name: 'counter',
        value: 0,
        bind: { input: 'select', options: model.counters.map((_, i) => i), labels: model.counters, name: 'counter ' },
      },
    ],
    data: { values: rows },
    transform: [{ filter: 'datum.m === counter' }],
    encoding: { y },
    layer: [
      {
        mark: { type: 'bar', height: { band: 0.7 } },
        encoding: {
          x: { field: 'mean', type: 'quantitative', title: TOTAL, axis: { format: ',d' } },
          color: { condition: { test: 'datum.base', value: '#9aa4b1' }, value: '#4c78a8' },
          tooltip: [
            { field: 'config', title: 'configuration' },
            { field: 'mean', title: 'mean', format: ',.1f' },
            { field: 'lo', title: 'min', format: ',d' },
            { field: 'hi', title: 'max', format: ',d' },
            { field: 'n', title: 'seeds' },
          ],
        },
      },
      ...(model.multiSeed
        ? [
            {
              mark: { type: 'errorbar', ticks: true },
              encoding: { x: { field: 'lo', type: 'quantitative', title: TOTAL }, x2: { field: 'hi' } },
            },
          ]
        : []),
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 11, color: '#333' },
        encoding: { x: { field: 'hi', type: 'quantitative', title: TOTAL }, text: { field: 'text' } },
      },
    ],
  };
  return {
    id: 'plot-counters',
    title: 'Counters per configuration',
    note: `Total of the chosen counter over the whole run; the label gives the value and its ratio to the baseline (grey bar).${rangeNote(model)}`,
    spec: spec as unknown as TopLevelSpec,
  };
}

/** Per-phase cycles, stacked, one bar per configuration. */
function cyclesPlot(model: ReportModel): PlotSpec {
  const rows = model.groups.flatMap((g) =>
    model.phases.map((phase, p) => {
      const s = stat(g, phaseCycles(phase));
      return { g: g.index, config: g.label, p, phase, cycles: s.mean, n: s.n };
    }),
  );
  const spec = {
    $schema: SCHEMA,
    config,
    width: WIDTH,
    height: { step: BAR_STEP },
    data: { values: rows },
    mark: { type: 'bar', height: { band: 0.7 } },
    encoding: {
      y: { field: 'config', type: 'nominal', sort: { field: 'g', op: 'min' }, title: null },
      x: { field: 'cycles', type: 'quantitative', stack: 'zero', title: 'cycles', axis: { format: '~s' } },
      color: {
        field: 'phase',
        type: 'nominal',
        sort: { field: 'p', op: 'min' },
        title: 'phase',
        scale: { scheme: 'tableau10' },
      },
      order: { field: 'p', type: 'quantitative' },
      tooltip: [
        { field: 'config', title: 'configuration' },
        { field: 'phase', title: 'phase' },
        { field: 'cycles', title: 'cycles', format: ',.1f' },
        { field: 'n', title: 'seeds' },
      ],
    },
  };
  return {
    id: 'plot-cycles',
    title: 'Cycles per phase',
    note: `The hardware model's cycles of each phase, stacked.${model.multiSeed ? ' Segments are the mean over seeds.' : ''}`,
    spec: spec as unknown as TopLevelSpec,
  };
}

/** The other axes of a configuration than `name`: the line it belongs to. */
function seriesLabel(g: ConfigGroup, name: string): string {
  const parts = [`${g.kernel}/${g.hardware}`];
  for (const p of g.policies) parts.push(`+${typeof p === 'string' ? p : JSON.stringify(p)}`);
  for (const [k, v] of Object.entries(g.vars)) if (k !== name) parts.push(`${k}=${v}`);
  return parts.join(' ');
}

/** A counter (or the cycles) against one swept variable, one line per combination of the other axes. */
function sweepPlot(model: ReportModel, varIndex: number): PlotSpec {
  const axis = model.vars[varIndex]!;
  const metrics: Array<[string, (r: RunDocument) => number | undefined]> = [
    ['cycles (total)', totalCycles],
    ...model.counters.map((c): [string, (r: RunDocument) => number | undefined] => [c, totalCounter(c)]),
  ];
  const series: string[] = [];
  const rows = metrics.flatMap(([, get], m) =>
    model.groups.flatMap((g) => {
      const v = g.vars[axis.name];
      if (v === undefined) return [];
      const s = stat(g, get);
      const label = seriesLabel(g, axis.name);
      if (!series.includes(label)) series.push(label);
      return [
        {
          x: xValue(axis, v),
          xo: axis.values.indexOf(String(v)),
          s: label,
          so: series.indexOf(label),
          m,
          mean: s.mean,
          lo: s.min,
          hi: s.max,
          n: s.n,
        },
      ];
    }),
  );
  const x = axis.numeric
    ? { field: 'x', type: 'quantitative', title: 'value', axis: { title: axis.name }, scale: { zero: false } }
    : { field: 'x', type: 'ordinal', title: 'value', axis: { title: axis.name }, sort: { field: 'xo', op: 'min' } };
  const color = { field: 's', type: 'nominal', title: 'configuration', sort: { field: 'so', op: 'min' } };
  const spec = {
    $schema: SCHEMA,
    config,
    width: WIDTH,
    height: 280,
    params: [
      {
        name: 'metric',
        value: 0,
        bind: { input: 'select', options: metrics.map((_, i) => i), labels: metrics.map(([n]) => n), name: 'metric ' },
      },
    ],
    data: { values: rows },
    transform: [{ filter: 'datum.m === metric' }],
    encoding: { x, color },
    layer: [
      {
        mark: { type: 'line', point: { size: 50 }, strokeWidth: 2 },
        encoding: {
          y: { field: 'mean', type: 'quantitative', title: TOTAL, axis: { format: '~s' } },
          tooltip: [
            { field: 's', title: 'configuration' },
            { field: 'x', title: 'value' },
            { field: 'mean', title: 'mean', format: ',.1f' },
            { field: 'lo', title: 'min', format: ',d' },
            { field: 'hi', title: 'max', format: ',d' },
            { field: 'n', title: 'seeds' },
          ],
        },
      },
      ...(model.multiSeed
        ? [
            {
              mark: { type: 'errorbar', ticks: true },
              encoding: { y: { field: 'lo', type: 'quantitative', title: TOTAL }, y2: { field: 'hi' } },
            },
          ]
        : []),
    ],
  };
  return {
    id: `plot-sweep-${varIndex}`,
    title: `Against ${axis.name}`,
    note: `The chosen metric against ${axis.name}, one line per combination of the other axes.${rangeNote(model)}`,
    spec: spec as unknown as TopLevelSpec,
  };
}
