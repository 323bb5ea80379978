#!/usr/bin/env node
// Regenerates the measured tables of examples/large-folio/README.md. Each table is one
// `mmsim compare … --json` run of the built CLI (run `pnpm build` first); this script only
// joins compare's configurations with the published numbers and formats them. The exact
// command is printed above each table ("Measured by").
//   node examples/large-folio/gen.mjs [TABLE...]
// The real-kernel table is written by tools/realkernel/compare.mjs.
import { execFileSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceMarked } from '../readme-markers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const bin = 'packages/cli/dist/bin.js';
const readmePath = join(here, 'README.md');
const only = process.argv.slice(2);

const fmt = (n, d = 0) =>
  n === undefined || Number.isNaN(n)
    ? '—'
    : n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const ctr = (r, ph, k) => r.phases[ph]?.counters[k] ?? 0;
const pct = (a, b) => `${a >= b ? '+' : ''}${fmt(((a - b) / b) * 100, 1)}%`;
const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/**
 * Run `mmsim compare <file> <args> --json` (from the repository root) and return its
 * configurations (cross-product order) and the command line as it reads in the README.
 */
function compare(file, args) {
  const argv = ['compare', relative(root, join(here, file)), ...args, '--json'];
  const out = execFileSync(process.execPath, [bin, ...argv], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
  const doc = JSON.parse(out);
  const command = ['node', bin, ...argv].map(quote).join(' ');
  return { configs: doc.configs, measuredBy: `Measured by: \`${command}\`` };
}

/** The `n` configurations of a compare run, in cross-product order. */
function results({ configs }, n) {
  if (configs.length !== n) throw new Error(`compare: expected ${n} configurations, got ${configs.length}`);
  return configs.map((c) => c.result);
}

const json = (v) => JSON.stringify(v);

function replace(name, body) {
  replaceMarked(readmePath, `table ${name}`, body, 'examples/large-folio/README.md');
}

const tables = {
  'fault-orders'() {
    const sizes = [
      ['4K', 1],
      ['16K', 4],
      ['32K', 8],
      ['64K', 16],
      ['2048K', 512],
    ];
    // one --set system.thp=<block> per folio size: the values of one path are alternatives
    const thp = (size) => ({ top: 'never', '2048K': 'never', ...(size === '4K' ? {} : { [size]: 'always' }) });
    const c = compare(
      'fault-orders.yaml',
      sizes.flatMap(([size]) => ['--set', `system.thp=${json(thp(size))}`]),
    );
    const rs = results(c, sizes.length);
    const base = ctr(rs[0], 'touch', 'pgfault');
    const rows = sizes.map(([size, nr], i) => {
      const r = rs[i];
      const f = ctr(r, 'touch', 'pgfault');
      const m = r.phases.touch.meminfo;
      return `| ${size} | ${fmt(f)} | ÷${fmt(base / f, 0)} | ÷${nr} | ${fmt(m.AnonPages)} | ${fmt(m.AnonHugePages)} | ${fmt(m.PageTables)} | ${fmt(r.phases.touch.cycles)} |`;
    });
    return `\`fault-orders.yaml\` (64 MiB first touch, linux-6.18, flat hardware), one run per \`thp:\` block:

${c.measuredBy}

| folio size | pgfault | measured | published (seed 004: by the folio's page count) | AnonPages kB | AnonHugePages kB | PageTables kB | cycles (unit costs) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}`;
  },

  barry() {
    // kernels × largeFolio options: [6.8 pre-fix era, 6.8, 6.18 pre-fix era (not shown), 6.18]
    const c = compare('barry-song.yaml', [
      '--kernel',
      'linux-6.8',
      '--kernel',
      'linux-6.18',
      '--set',
      `system.kernelOptions.largeFolio=${json({ era: 'linux-6.8-rc' })}`,
      '--set',
      'system.kernelOptions.largeFolio={}',
    ]);
    const rs = results(c, 4);
    const rows = [
      ['linux-6.8 before the fix (largeFolio era linux-6.8-rc)', rs[0], '2,149 MB'],
      ['linux-6.8 (the fix: large folios are never reused)', rs[1], '1,122 MB'],
      ['linux-6.18 (__wp_can_reuse_large_anon_folio)', rs[3], '—'],
    ].map(([label, r, pub]) => {
      const m = r.phases.rewrite.meminfo;
      return `| ${label} | ${pub} | ${fmt(m.MemUsed / 1024)} MB | ${fmt(m.AnonPages / 1024)} MB | ${fmt(ctr(r, 'rewrite', 'pgfault'))} | ${fmt(ctr(r, 'rewrite', 'cow_copy'))} | ${fmt(ctr(r, 'rewrite', 'pgreuse'))} | ${fmt(ctr(r, 'fork', 'thp_deferred_split_page') + ctr(r, 'rewrite', 'thp_deferred_split_page'))} |`;
    });
    return `\`barry-song.yaml\` (1 GiB, 1 MiB mTHP, fork, the child exits, the parent rewrites). Published figures are \`free -m\` "used" on a 5.7 GB machine (≈ 84 MB of it before the test); mmsim's MemUsed counts only the scenario's frames:

${c.measuredBy}

| kernel | published used | MemUsed | AnonPages | rewrite pgfault | cow_copy | pgreuse | deferred splits |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}`;
  },

  'fork-order'() {
    // order 0 (fork-order.yaml) and order 9 PTE-mapped (fork-ptemapped.yaml), each × profile
    // (neoverse-n1 = Altra, apple-m2-vm) × kernel (linux-6.8: no batching; linux-6.18: batched
    // copy_present_ptes) × contpte (off / on; the v6.8 kernel had no contpte: its "on" row is not shown)
    const sets = [
      '--set',
      'system.hardwareOptions.profile=neoverse-n1',
      '--set',
      'system.hardwareOptions.profile=apple-m2-vm',
      '--set',
      'system.kernel=linux-6.8',
      '--set',
      'system.kernel=linux-6.18',
      '--set',
      'system.hardwareOptions.contpte=false',
      '--set',
      'system.hardwareOptions.contpte=true',
    ];
    const runs = [
      { order: '0', file: 'fork-order.yaml' },
      { order: '9, PTE-mapped', file: 'fork-ptemapped.yaml' },
    ].map((o) => ({ ...o, c: compare(o.file, sets) }));
    const pub = {
      0: { 'neoverse-n1': '+1.8% (Altra)', 'apple-m2-vm': '+2.6% (M2 VM)' },
      '9, PTE-mapped': { 'neoverse-n1': '-6.7% (Altra)', 'apple-m2-vm': '-25.4% (M2 VM)' },
    };
    const lines = [];
    for (const { order, c } of runs) {
      const rs = results(c, 8);
      for (const [pi, profile] of ['neoverse-n1', 'apple-m2-vm'].entries()) {
        const at = (ki, ci) => rs[pi * 4 + ki * 2 + ci];
        const base = at(0, 0).phases.fork.cycles;
        for (const [ki, ci] of [
          [0, 0],
          [1, 0],
          [1, 1],
        ]) {
          const r = at(ki, ci);
          const kernel = ki === 0 ? 'linux-6.8' : 'linux-6.18';
          const cyc = r.phases.fork.cycles;
          const vs = ki === 0 ? '' : pct(cyc, base);
          const p = ki === 1 && ci === 1 ? pub[order][profile] : '';
          lines.push(
            `| ${order} | ${profile} | ${kernel} | ${ci ? 'on' : 'off'} | ${fmt(ctr(r, 'fork', 'fork_pte_copy'))} | ${fmt(ctr(r, 'fork', 'contpte_fold'))} / ${fmt(ctr(r, 'fork', 'contpte_unfold'))} | ${fmt(cyc)} | ${vs} | ${p} |`,
          );
        }
      }
    }
    return `\`fork-order.yaml\` (256 MiB of 4 KiB pages touched, then fork) and \`fork-ptemapped.yaml\` (256 MiB of 2 MiB THPs, PTE-mapped by an mprotect of one page each, then fork); arm64 model, profiles \`neoverse-n1\` (Altra) and \`apple-m2-vm\`. The published figures compare a kernel with the contpte series (contpte + batched fork: folio_pte_batch(), copy_present_ptes(), wrprotect_ptes(), v6.9) with one without; here linux-6.18 against linux-6.8 (no batching, and no contpte: its contpte-on configuration is not shown):

${runs.map((r) => r.c.measuredBy).join('\n\n')}

| order | profile | kernel | contpte | fork_pte_copy | contpte fold / unfold at fork | fork cycles | vs linux-6.8 | published (contpte v4, series vs base) |
| --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |
${lines.join('\n')}`;
  },

  kbuild() {
    const variants = [
      ['order 0', 'arm64', false, false],
      ['order 4 (64K)', 'arm64', true, false],
      ['order 4 + contpte', 'arm64', true, true],
      ['order 0', 'x86', false, false],
      ['order 4 (64K)', 'x86', true, false],
    ];
    // x86 takes no contpte option, so hardware, its options and the thp block pair up: one
    // --set system=<block> per row (alternatives of one path)
    const system = ([, hw, o4, contpte]) => ({
      hardware: hw,
      hardwareOptions: hw === 'arm64' ? { cpus: 2, contpte } : { cpus: 2 },
      kernel: 'linux-6.18',
      thp: { top: 'never', '2048K': 'never', ...(o4 ? { '64K': 'always' } : {}) },
    });
    const c = compare(
      'kbuild.yaml',
      variants.flatMap((v) => ['--set', `system=${json(system(v))}`]),
    );
    const rs = results(c, variants.length);
    const base = {};
    // the published pair per row: kernel (sys) time, real (wall) time, vs order 0 (Altra)
    const published = { 'order 4 (64K)': '-38.0% / -4.6%', 'order 4 + contpte': '-37.7% / -5.4%' };
    const lines = variants.map(([label, hw], i) => {
      const r = rs[i];
      const t = r.total;
      if (!base[hw]) base[hw] = t;
      const b = base[hw];
      const last = r.phases.last.meminfo;
      const pub = hw === 'arm64' ? (published[label] ?? '') : '';
      return `| ${hw} | ${label} | ${fmt(t.counters.pgfault ?? 0)} | ${fmt(t.counters.tlb_miss ?? 0)} | ${fmt(t.counters.pgalloc ?? 0)} | ${fmt(last.AnonPages)} | ${fmt(t.kernelCycles)} | ${pct(t.kernelCycles, b.kernelCycles)} | ${fmt(t.userCycles)} | ${pct(t.userCycles, b.userCycles)} | ${fmt(t.cycles)} | ${pct(t.cycles, b.cycles)} | ${fmt((t.kernelCycles / t.cycles) * 100, 1)}% | ${pub} |`;
    });
    return `\`kbuild.yaml\` (48 short compile jobs forked from a long-lived make). The last job touches every third page of 1200 KiB (100 pages written): its AnonPages shows the bloat of large folios. Each job's compiler work is a \`compute\` step (user cycles, measured on a real gcc compile: see kbuild.yaml); kernel cycles are perf's cycles:k, total = user + kernel:

${c.measuredBy}

| hardware | folios | pgfault | tlb_miss | pgalloc (pages) | last job AnonPages kB (400 kB written) | kernel cycles | vs order 0 | user cycles | vs order 0 | total cycles | vs order 0 | kernel share | published kernel / real vs order 0 |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${lines.join('\n')}

Published (contpte v4, Ampere Altra, kernel build -j8, vs order 0): mTHP real -4.6% / kernel time -38.0%; + contpte real -5.4% / kernel -37.7%. Real (wall) time of a parallel build moves with total CPU time (user + sys) when the jobs keep every CPU busy, so the total-cycles column is the one to set against "real".`;
  },
};

for (const [name, fn] of Object.entries(tables)) {
  if (only.length > 0 && !only.includes(name)) continue;
  replace(name, fn());
}
