#!/usr/bin/env node
// Issue 17 against the real kernel: runs pressure.c's scenarios on this machine inside a cgroup v1
// memory group (root: it sets THP to `never`, brings zram0 up as swap and creates the group; all of
// it is put back afterwards, also on error), RUNS times each, saves the raw per-run results in
// pressure-results.json, runs the same scenarios in mmsim (scenarios-pressure/*.yaml, linux-6.18
// on x86 with 2 CPUs, the group as a memory cgroup with memory.max = its limit) and writes PRESSURE.md: per scenario,
// phase and counter the real median (min–max over the runs) next to mmsim's figure.
//   node tools/realkernel/pressure.mjs [--runs N]     (measure; default 5 runs)
//   node tools/realkernel/pressure.mjs --sim-only     (reuse pressure-results.json; no root)
//   node tools/realkernel/pressure.mjs --sim-only --stdout   (print the table, write nothing)
//   node tools/realkernel/pressure.mjs --sim-only --check    (exit 1 when PRESSURE.md is stale)
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const resultsFile = join(here, 'pressure-results.json');
const tableFile = join(here, 'PRESSURE.md');
const THP = '/sys/kernel/mm/transparent_hugepage';
const CGROUP = '/sys/fs/cgroup/memory/mmsim-pressure';
/** scenario → the group's memory.limit_in_bytes (= memory.max of the scenario's cgroup in mmsim) */
export const SCENARIOS = { 'seq-128m': '64M', 'hot-cold': '64M' };
const ZRAM_SIZE = '512M';

// ---------------------------------------------------------------- real kernel
const readMode = (file) => /\[([\w+]+)\]/.exec(readFileSync(file, 'utf8'))[1];

function measureReal(runs) {
  if (process.getuid?.() !== 0) throw new Error('measuring needs root (or use --sim-only)');
  const bin = join(tmpdir(), 'mmsim-pressure');
  execFileSync('gcc', ['-O2', '-Wall', '-o', bin, join(here, 'pressure.c')]);
  const restore = []; // undo actions, run in reverse order in `finally`
  const undo = (what, fn) => restore.push([what, fn]);
  const out = {
    kernel: execFileSync('uname', ['-r']).toString().trim(),
    date: new Date().toISOString(),
    cpus: Number(execFileSync('nproc').toString().trim()),
    swappiness: Number(readFileSync('/proc/sys/vm/swappiness', 'utf8')),
    runs: [],
    notes: [],
  };
  try {
    // THP: every hugepages-*/enabled and the top-level switch to `never`, restored after
    const dirs = readdirSync(THP).filter((d) => /^hugepages-\d+kB$/.test(d) && existsSync(join(THP, d, 'enabled')));
    const files = [join(THP, 'enabled'), ...dirs.map((d) => join(THP, d, 'enabled'))];
    const saved = files.map((f) => [f, readMode(f)]);
    undo('THP sysfs', () => {
      for (const [f, mode] of saved) writeFileSync(f, mode);
    });
    for (const f of files) writeFileSync(f, 'never');
    const before = execFileSync('swapon', ['--show=NAME', '--noheadings']).toString().trim();
    if (before) out.notes.push(`swap already active before the runs (left as it was): ${before.replace(/\n/g, ', ')}`);
    if (before.split('\n').includes('/dev/zram0') || !existsSync('/sys/block/zram0'))
      throw new Error('/dev/zram0 is missing or already used as swap');
    if (existsSync(CGROUP)) throw new Error(`${CGROUP} exists already`);
    for (let run = 0; run < runs; run++) {
      const results = {};
      for (const [sc, limit] of Object.entries(SCENARIOS)) {
        // a fresh zram swap and a fresh group per scenario and run
        writeFileSync('/sys/block/zram0/disksize', ZRAM_SIZE);
        execFileSync('mkswap', ['/dev/zram0'], { stdio: 'ignore' });
        execFileSync('swapon', ['/dev/zram0']);
        mkdirSync(CGROUP);
        try {
          writeFileSync(join(CGROUP, 'memory.limit_in_bytes'), limit);
          const line = execFileSync('taskset', ['-c', '0', bin, sc], { env: { ...process.env, CGROUP } }).toString();
          if (files.some((f) => readMode(f) !== 'never')) throw new Error('THP settings changed under the run');
          results[sc] = JSON.parse(line).phases;
        } finally {
          rmdirSync(CGROUP); // the process has exited: the group is empty
          execFileSync('swapoff', ['/dev/zram0']);
          writeFileSync('/sys/block/zram0/reset', '1');
        }
      }
      out.runs.push(results);
      console.error(`run ${run + 1}/${runs} done`);
    }
  } finally {
    for (const [what, fn] of restore.reverse()) {
      try {
        fn();
      } catch (e) {
        console.error(`could not restore ${what}: ${e.message}`);
      }
    }
    const after = execFileSync('swapon', ['--show=NAME', '--noheadings']).toString().trim();
    if (after.split('\n').includes('/dev/zram0')) console.error('zram0 is still swap: swapoff /dev/zram0');
    if (existsSync(CGROUP)) console.error(`${CGROUP} is still there: rmdir it`);
  }
  writeFileSync(resultsFile, `${JSON.stringify(out, null, 2)}\n`);
  return out;
}

// ---------------------------------------------------------------- comparison
/** mmsim's cgroup of the scenarios (the real group is CGROUP) */
const SIM_CGROUP = 'mmsim-pressure';

/**
 * per real phase: [row label, real value, mmsim value (null: no such thing in mmsim), source].
 * mmsim's memory.stat counters are cumulative, as the file's: the phase's share is the difference
 * from the previous phase (`simPrev`).
 */
function rowsFor(r, simPhase, simPrev) {
  const c = simPhase?.counters ?? {};
  const g = simPhase?.meminfo?.processes?.p ?? {};
  const cg = simPhase?.meminfo?.cgroups?.[SIM_CGROUP];
  const pg = simPrev?.meminfo?.cgroups?.[SIM_CGROUP];
  const st = (k) => (cg?.['memory.stat'][k] ?? 0) - (pg?.['memory.stat'][k] ?? 0);
  const kb = (bytes) => (bytes ?? 0) / 1024;
  const v = r.vmstat;
  const m = r.memcg;
  const n = (x) => x ?? 0;
  return [
    ['faults (getrusage)', r.minflt + r.majflt, n(c.pgfault), 'process'],
    ['majflt (getrusage)', r.majflt, n(c.pgmajfault), 'process'],
    ['RssAnon kB', r.RssAnon, n(g.RssAnon), 'process'],
    ['VmSwap kB', r.VmSwap, n(g.VmSwap), 'process'],
    ['pswpout', n(v.pswpout), n(c.pswpout), 'vmstat'],
    ['pswpin', n(v.pswpin), n(c.pswpin), 'vmstat'],
    ['pgscan (real vmstat pgscan_anon; mmsim memory.stat pgscan)', n(v.pgscan_anon), st('pgscan'), 'vmstat'],
    ['pgsteal (real vmstat pgsteal_anon; mmsim memory.stat pgsteal)', n(v.pgsteal_anon), st('pgsteal'), 'vmstat'],
    ['pgscan_kswapd', n(v.pgscan_kswapd), n(c.pgscan_kswapd), 'vmstat'],
    ['pgscan_direct', n(v.pgscan_direct), n(c.pgscan_direct), 'vmstat'],
    ['pgsteal_kswapd', n(v.pgsteal_kswapd), n(c.pgsteal_kswapd), 'vmstat'],
    ['pgsteal_direct', n(v.pgsteal_direct), n(c.pgsteal_direct), 'vmstat'],
    ['allocstall_normal', n(v.allocstall_normal), n(c.allocstall_normal), 'vmstat'],
    ['pgactivate', n(v.pgactivate), n(c.pgactivate), 'vmstat'],
    ['pgdeactivate', n(v.pgdeactivate), n(c.pgdeactivate), 'vmstat'],
    ['pgrefill', n(v.pgrefill), n(c.pgrefill), 'vmstat'],
    ['workingset_refault_anon (vmstat)', n(v.workingset_refault_anon), n(c.workingset_refault_anon), 'vmstat'],
    ['workingset_activate_anon', n(v.workingset_activate_anon), n(c.workingset_activate_anon), 'vmstat'],
    ['workingset_restore_anon', n(v.workingset_restore_anon), n(c.workingset_restore_anon), 'vmstat'],
    ['pgfault', n(m.pgfault), st('pgfault'), 'memcg'],
    ['pgmajfault', n(m.pgmajfault), st('pgmajfault'), 'memcg'],
    ['pgpgin (charges)', n(m.pgpgin), null, 'memcg'],
    ['pgpgout (uncharges)', n(m.pgpgout), null, 'memcg'],
    ['workingset_refault_anon', n(m.workingset_refault_anon), st('workingset_refault_anon'), 'memcg'],
    ['rss kB (mmsim anon)', n(m.rss_kB), kb(cg?.['memory.stat'].anon), 'memcg'],
    ['swap kB (mmsim memory.swap.current)', n(m.swap_kB), kb(cg?.['memory.swap.current']), 'memcg'],
    ['swapcached kB', n(m.swapcached_kB), null, 'memcg'],
    ['inactive_anon kB', n(m.inactive_anon_kB), kb(cg?.['memory.stat'].inactive_anon), 'memcg'],
    ['active_anon kB', n(m.active_anon_kB), kb(cg?.['memory.stat'].active_anon), 'memcg'],
    [
      'usage kB (memory.usage_in_bytes; mmsim memory.current)',
      m.usage_kB ?? null,
      m.usage_kB === undefined ? null : kb(cg?.['memory.current']),
      'memcg',
    ],
  ];
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const MEMCG_RECLAIM =
  "cgroup reclaim: vmscan.c counts pgscan_*/pgsteal_*/pgrefill/allocstall of cgroup reclaim only in the group's own events (`if (!cgroup_reclaim(sc))`; v1 memory.stat does not print them), /proc/vmstat gets pgscan_anon/pgsteal_anon only; mmsim counts them as the kernel does";
const STOP_POINT =
  "where reclaim stops: both reclaim on charge until the group fits (try_to_free_mem_cgroup_pages(), SWAP_CLUSTER_MAX at a time), but the real group also charges ahead a per-CPU stock of up to 64 pages (MEMCG_CHARGE_BATCH), which mmsim does not model, and the harness's own few pages in the group: a few dozen pages more or fewer stay resident than in mmsim, as many fewer or more go to swap";
const USAGE =
  "memory.usage_in_bytes includes the per-CPU charge stock (up to MEMCG_CHARGE_BATCH = 64 pages charged ahead, not modelled: mmsim charges exactly) and the harness's own pages in the group (stack and data touched after joining it)";
const LRU_BATCH =
  'the folios still in a per-CPU lru_add batch are on no list: mmsim drains its 31-folio batches (folio_batch) at other moments than the real CPU did when memory.stat was read';
const HARNESS =
  "harness: one or two faults (and in `reread`/`stream` one swap-in) per phase are the C program's own pages (stack or data touched between the phase's snapshots), not the scenario's";
/** Why a cell differs: [scenario regexp, phase regexp, row regexp, note]; the first that matches. */
const WHY = [
  [/.*/, /.*/, /^(pgscan_|pgsteal_|allocstall|pgrefill|pgdeactivate)/, MEMCG_RECLAIM],
  [
    /.*/,
    /.*/,
    /^pgactivate$/,
    'noise: system-wide; cgroup reclaim does not count pgactivate in /proc/vmstat (`if (!cgroup_reclaim(sc))` in shrink_folio_list()), so these are other processes of the machine',
  ],
  [/.*/, /.*/, /^usage/, USAGE],
  [/.*/, /.*/, /^(inactive_anon|active_anon)/, LRU_BATCH],
  [/.*/, /.*/, /^(pswpout|pgsteal|pgscan|RssAnon|VmSwap|rss|swap)/, STOP_POINT],
  [
    /.*/,
    /.*/,
    /^workingset_refault_anon \(vmstat\)$/,
    "noise of the measurement: workingset_refault_anon is a node stat, and /proc/vmstat shows it without the per-CPU deltas not yet folded in (the group's memory.stat row is exact)",
  ],
  [/.*/, /.*/, /^(faults|pgfault|majflt|pgmajfault|pswpin|workingset_refault)/, HARNESS],
];

export async function buildTable(real) {
  const { runScenarioFile } = await import(
    pathToFileURL(createRequire(join(root, 'examples/package.json')).resolve('@mmsim/cli')).href
  );
  const lines = [];
  let cells = 0;
  let same = 0;
  let inRange = 0;
  let near = 0;
  const unexplained = [];
  for (const sc of Object.keys(SCENARIOS)) {
    const sim = await runScenarioFile(join(here, 'scenarios-pressure', `${sc}.yaml`), {
      kernel: 'linux-6.18',
      hardware: 'x86',
    });
    for (const ph of Object.keys(real.runs[0][sc])) {
      const phs = Object.keys(real.runs[0][sc]);
      const prev = phs.indexOf(ph) > 0 ? sim.phases[phs[phs.indexOf(ph) - 1]] : undefined;
      const perRun = real.runs.map((r) => rowsFor(r[sc][ph], sim.phases[ph], prev));
      for (let i = 0; i < perRun[0].length; i++) {
        const [label, , simV, src] = perRun[0][i];
        const vals = perRun.map((rows) => rows[i][1]);
        const med = median(vals);
        const lo = Math.min(...vals);
        const hi = Math.max(...vals);
        if (med === 0 && hi === 0 && (simV ?? 0) === 0) continue;
        cells++;
        let mark;
        if (simV === med) {
          mark = '✓';
          same++;
        } else if (simV !== null && simV >= lo && simV <= hi) {
          mark = '≈';
          inRange++;
        } else if (simV !== null && med !== 0 && Math.abs(simV - med) / Math.abs(med) <= 0.05) {
          mark = '~';
          near++;
        } else mark = simV === null ? '—' : '✗';
        let why = '';
        if (mark !== '✓' && mark !== '—') {
          const w = WHY.find(([s, p, r]) => s.test(sc) && p.test(ph) && r.test(label));
          why = w ? w[3] : '';
          if (!w) unexplained.push(`${sc}/${ph}/${label}`);
        }
        if (mark === '—') why = 'a cgroup v1 counter (memcg1_charge_statistics()): mmsim shows the v2 files';
        const diff =
          simV === null || med === 0 ? '' : `${simV - med >= 0 ? '+' : ''}${(((simV - med) / med) * 100).toFixed(1)}%`;
        const range = lo === hi ? `${med}` : `${med} (${lo}–${hi})`;
        lines.push(`| ${sc} | ${ph} | ${label} | ${src} | ${range} | ${simV ?? '—'} | ${diff} | ${mark} | ${why} |`);
      }
    }
  }
  const head = `# Memory pressure: real Linux ${real.kernel} in a memory cgroup against mmsim \`linux-6.18\` (issue 17)

Generated by \`node tools/realkernel/pressure.mjs\` (measures; root) or \`--sim-only\` (reuses
\`pressure-results.json\`). Do not edit by hand.

- Real: \`tools/realkernel/pressure.c\`, ${real.runs.length} runs of each scenario on this machine
  (${real.cpus} CPUs, ${real.date.slice(0, 10)}, swappiness ${real.swappiness}), under \`taskset -c 0\`, inside a cgroup v1 memory
  group with \`memory.limit_in_bytes\` = ${[...new Set(Object.values(SCENARIOS))].join(', ')} (made fresh per scenario and run, removed after);
  zram0 as swap (${ZRAM_SIZE}, synchronous, fresh per scenario and run); THP \`never\` everywhere (and
  \`MADV_NOHUGEPAGE\`), restored afterwards.${real.notes.length ? `\n  ${real.notes.join('; ')}` : ''}
- mmsim: \`tools/realkernel/scenarios-pressure/<scenario>.yaml\`, \`--kernel linux-6.18 --hardware x86\`, 2 CPUs.
  The group is modelled as a memory cgroup: \`system.cgroups: { mmsim-pressure: { max: 64MiB } }\`
  and the process spawned in it, on a machine without a memory bound (this one's 24 GiB stay far
  above every watermark): reclaim is cgroup reclaim by the charging task
  (\`try_charge_memcg()\` → \`try_to_free_mem_cgroup_pages()\`), counted in the group's
  memory.stat and not in /proc/vmstat's \`pgscan_*\`/\`pgsteal_*\`, on both sides. mmsim models
  cgroup v2; the real group is v1 (the same reclaim; v1 moves the charge to swap at swap-out,
  v2 charges swap when the slot is allocated, which is the same here: zram writes synchronously).
- Sources: *process* = getrusage and \`/proc/self/status\` at the phase's end (RssAnon in kB above
  its value before the scenario's first mmap); *vmstat* = system-wide \`/proc/vmstat\` deltas over
  the phase (other processes count too); *memcg* = the group's v1 \`memory.stat\` (counters as
  deltas, \`rss\`/\`swap\`/\`swapcached\`/the LRU sizes and \`memory.usage_in_bytes\` at the phase's end;
  mmsim: its cgroup's memory.stat, memory.swap.current and memory.current). This kernel's v1 \`memory.stat\` prints no
  pgscan/pgsteal: the real pgscan/pgsteal rows are \`/proc/vmstat\`'s \`pgscan_anon\`/\`pgsteal_anon\`,
  which count every reclaim, cgroup reclaim included (\`pgscan_kswapd\`/\`pgscan_direct\` do not).
- real: median (min–max) over the runs; diff = (mmsim − median) / median. A row is shown when
  either side is non-zero. ✓ mmsim equals the median; ≈ inside the real min–max; ~ within 5 % of
  the median; ✗ further; — mmsim has nothing to compare.

${cells} cells: ${same} ✓, ${inRange} ≈, ${near} ~, ${cells - same - inRange - near} ✗ or —${unexplained.length ? ` (${unexplained.length} without a note)` : ''}.

| scenario | phase | counter | source | real median (min–max) | mmsim | diff | match | why it differs |
| --- | --- | --- | --- | ---: | ---: | ---: | :---: | --- |
`;
  return { markdown: `${head}${lines.join('\n')}\n`, unexplained };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const simOnly = process.argv.includes('--sim-only');
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
  const real = simOnly ? JSON.parse(readFileSync(resultsFile, 'utf8')) : measureReal(runs);
  const { markdown, unexplained } = await buildTable(real);
  if (process.argv.includes('--stdout')) process.stdout.write(markdown);
  else if (process.argv.includes('--check')) {
    const same = existsSync(tableFile) && readFileSync(tableFile, 'utf8') === markdown;
    console.error(
      same ? 'PRESSURE.md is up to date' : 'PRESSURE.md differs from what pressure-results.json gives: regenerate it',
    );
    if (!same) process.exitCode = 1;
  } else {
    writeFileSync(tableFile, markdown);
    console.error(`wrote ${tableFile}`);
  }
  if (unexplained.length)
    console.error(`differences without a note: ${unexplained.length}\n  ${unexplained.join('\n  ')}`);
}
