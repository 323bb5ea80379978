#!/usr/bin/env node
// khugepaged on this machine's kernel against mmsim's `khugepaged` step: the khugepaged-context
// cases of the kernel's khugepaged.c selftest (tools/realkernel/khugepaged.c), RUNS runs each,
// beside the same cases as mmsim scenarios (scenarios-khugepaged/*.yaml, linux-6.18, x86).
// Root: it sets /sys/kernel/mm/transparent_hugepage/khugepaged/* per case (scan_sleep_millisecs 10
// so that two full scans take well under a second) and puts every knob back afterwards.
//   node tools/realkernel/khugepaged.mjs [--runs N]        (measure; default 3 runs)
//   node tools/realkernel/khugepaged.mjs --sim-only        (reuse khugepaged-results.json; no root)
//   node tools/realkernel/khugepaged.mjs --sim-only --check (exit 1 when KHUGEPAGED.md is stale)
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const resultsFile = join(here, 'khugepaged-results.json');
const tableFile = join(here, 'KHUGEPAGED.md');
const KH = '/sys/kernel/mm/transparent_hugepage/khugepaged';
const DEFAULTS = { max_ptes_none: 511, max_ptes_swap: 64, max_ptes_shared: 256, pages_to_scan: 4096 };
/** per case: the knobs it changes (the same in its scenario's system.khugepaged) */
const CASES = {
  full: {},
  single_pte: {},
  empty: {},
  none_255: { max_ptes_none: 256 },
  none_256: { max_ptes_none: 256 },
  unreferenced: {},
  fork: {},
  shared_255: { max_ptes_shared: 256 },
  shared_256: { max_ptes_shared: 256 },
};
const COUNTERS = ['thp_collapse_alloc', 'thp_scan_exceed_none_pte', 'thp_scan_exceed_share_pte'];

function measureReal(runs) {
  if (process.getuid?.() !== 0) throw new Error('measuring needs root (or use --sim-only)');
  const bin = join(tmpdir(), 'mmsim-khugepaged');
  execFileSync('gcc', ['-O2', '-Wall', '-o', bin, join(here, 'khugepaged.c')]);
  const knobs = [
    'scan_sleep_millisecs',
    'alloc_sleep_millisecs',
    'max_ptes_none',
    'max_ptes_swap',
    'max_ptes_shared',
    'pages_to_scan',
  ];
  const saved = knobs.map((k) => [k, readFileSync(join(KH, k), 'utf8').trim()]);
  const enabled = /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))[1];
  const out = {
    kernel: execFileSync('uname', ['-r']).toString().trim(),
    date: new Date().toISOString().slice(0, 10),
    runs: [],
  };
  try {
    writeFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'madvise');
    writeFileSync(join(KH, 'scan_sleep_millisecs'), '10');
    writeFileSync(join(KH, 'alloc_sleep_millisecs'), '10');
    for (let i = 0; i < runs; i++) {
      const run = {};
      for (const [c, k] of Object.entries(CASES)) {
        for (const [n, v] of Object.entries({ ...DEFAULTS, ...k })) writeFileSync(join(KH, n), String(v));
        run[c] = JSON.parse(execFileSync(bin, [c]).toString().trim().split('\n').pop());
      }
      out.runs.push(run);
    }
  } finally {
    for (const [k, v] of saved) writeFileSync(join(KH, k), v);
    writeFileSync('/sys/kernel/mm/transparent_hugepage/enabled', enabled);
  }
  writeFileSync(resultsFile, `${JSON.stringify(out, null, 2)}\n`);
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const spread = (xs) => {
  const m = median(xs);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo === hi ? String(m) : `${m} (${lo}–${hi})`;
};

export async function buildTable(real) {
  const { runScenarioFile } = await import(
    pathToFileURL(createRequire(join(root, 'examples/package.json')).resolve('@mmsim/cli')).href
  );
  const rows = [];
  let cells = 0;
  let same = 0;
  for (const c of Object.keys(CASES)) {
    const file = join(here, 'scenarios-khugepaged', `${c}.yaml`);
    const what = /^# .*?: (.*)$/m.exec(readFileSync(file, 'utf8'))[1];
    const sim = await runScenarioFile(file, { kernel: 'linux-6.18', hardware: 'x86' });
    const simHuge = sim.checks.failed === 0;
    const realHuge = real.runs.map((r) => r[c].huge_kb === 2048);
    const cellsOf = [
      [realHuge.every((h) => h === realHuge[0]) ? (realHuge[0] ? 'yes' : 'no') : 'varies', simHuge ? 'yes' : 'no'],
      ...COUNTERS.map((n) => [spread(real.runs.map((r) => r[c][n])), String(sim.phases.scan?.counters[n] ?? 0)]),
    ];
    const marks = cellsOf.map(([r, s]) => {
      cells++;
      const ok = r === s;
      if (ok) same++;
      return ok ? '✓' : '✗';
    });
    const knobs = Object.entries(CASES[c])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    rows.push(
      `| \`${c}\` | ${what} | ${knobs || 'defaults'} | ${cellsOf.map(([r, s], i) => `${r} / ${s} ${marks[i]}`).join(' | ')} | ${spread(real.runs.map((r) => r[c].full_scans))} |`,
    );
  }
  return [
    `# khugepaged: real Linux ${real.kernel} against mmsim \`linux-6.18\``,
    '',
    'Generated by `node tools/realkernel/khugepaged.mjs` (measures; root) or `--sim-only` (reuses',
    '`khugepaged-results.json`). Do not edit by hand.',
    '',
    `- Real: \`tools/realkernel/khugepaged.c\`, the khugepaged-context cases of the kernel's`,
    `  \`khugepaged.c\` selftest, ${real.runs.length} runs each on this machine (${real.date}): MADV_HUGEPAGE, then`,
    '  until `khugepaged/full_scans` has advanced by 2 (`wait_for_scan()`; `scan_sleep_millisecs` 10),',
    '  then MADV_NOHUGEPAGE; THP `enabled` madvise; the knobs of the case, the others at their',
    '  defaults; everything restored afterwards. PMD-mapped: smaps `AnonHugePages` of the 2 MiB;',
    '  counters: /proc/vmstat deltas over the wait (system-wide: another process collapsing on the',
    '  machine would count too).',
    '- mmsim: `tools/realkernel/scenarios-khugepaged/<case>.yaml` (`khugepaged {fullScans: 2}`),',
    '  `--kernel linux-6.18 --hardware x86`; PMD-mapped: its pagemap check.',
    '- Cells: real / mmsim; real counters as median (min–max) when the runs differ.',
    '',
    `${cells} cells: ${same} ✓, ${cells - same} ✗.`,
    '',
    `| case | what | knobs | PMD-mapped | ${COUNTERS.join(' | ')} | real full_scans passed |`,
    `| --- | --- | --- | --- | ${COUNTERS.map(() => '---').join(' | ')} | --- |`,
    ...rows,
    '',
  ].join('\n');
}

const args = process.argv.slice(2);
const simOnly = args.includes('--sim-only');
const runsAt = args.indexOf('--runs');
const real = simOnly
  ? JSON.parse(readFileSync(resultsFile, 'utf8'))
  : measureReal(runsAt >= 0 ? Number(args[runsAt + 1]) : 3);
const md = await buildTable(real);
if (args.includes('--check')) {
  const ok = readFileSync(tableFile, 'utf8') === md;
  console.log(
    ok ? 'KHUGEPAGED.md is up to date' : 'KHUGEPAGED.md is stale: node tools/realkernel/khugepaged.mjs --sim-only',
  );
  process.exit(ok ? 0 : 1);
}
writeFileSync(tableFile, md);
console.log(md);
