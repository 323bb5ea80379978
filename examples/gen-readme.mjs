#!/usr/bin/env node
// Regenerates the measured tables in README.md files from the scenarios next to them
// (pnpm examples:readme, after pnpm build). Nothing in those tables is typed by hand.
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScenarioFile, readScenario, resolveSystem } from '@mmsim/cli';
import { runScenario } from '@mmsim/core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const only = process.argv.slice(2);

function replace(file, marker, body) {
  const path = join(root, file);
  const text = readFileSync(path, 'utf8');
  const open = `<!-- mmsim:${marker} -->`;
  const close = `<!-- /mmsim:${marker.split(' ')[0]} -->`;
  const a = text.indexOf(open);
  const b = text.indexOf(close, a);
  if (a < 0 || b < 0) throw new Error(`${file}: markers for ${marker} not found`);
  writeFileSync(path, text.slice(0, a + open.length) + '\n' + body.trim() + '\n' + text.slice(b));
  console.log(`${file}: ${marker} updated`);
}

const KERNELS = ['linux-5.8', 'linux-5.9', 'linux-5.18', 'linux-5.19', 'linux-6.8', 'linux-6.18'];
const fmt = (n, d = 0) =>
  n === undefined || Number.isNaN(n)
    ? '—'
    : n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const c = (r, ph, k) => r.phases[ph]?.counters[k] ?? 0;

const tables = {
  async 'fork-1g'() {
    const file = 'examples/fork-1g/fork-1g.yaml';
    const r = await runScenarioFile(join(root, file));
    const rows = Object.entries(r.phases).map(
      ([name, p]) =>
        `| ${name} | ${fmt(p.counters.pgfault ?? 0)} | ${fmt(p.counters.cow_copy ?? 0)} | ${fmt(p.counters.pgreuse ?? 0)} | ${fmt(p.counters.fork_pte_copy ?? 0)} | ${fmt(p.meminfo.PageTables)} | ${fmt(p.meminfo.AnonPages)} | ${fmt(p.cycles)} |`,
    );
    const before = r.phases.touch.meminfo.PageTables;
    const after = r.phases.fork.meminfo.PageTables;
    const childPte = r.phases.fork.meminfo.processes.c?.VmPTE;
    return `Measured by \`mmsim run ${file}\` (hardware ${r.system.hardware}, kernel ${r.system.kernel}):

| phase | pgfault | cow_copy | pgreuse | fork_pte_copy | PageTables kB | AnonPages kB | cycles |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

Against seed 002 (RFC v1 cover letter, 1 GB mapped, whole-system PageTables; mmsim counts only the scenario's own tables):

| | published | mmsim |
| --- | ---: | ---: |
| PageTables before fork | 3,356 kB | ${fmt(before)} kB |
| PageTables after fork | 5,432 kB (+2,076) | ${fmt(after)} kB (+${fmt(after - before)}) |
| child VmPTE after fork | 2,096 kB (COW PTE v5 letter) | ${fmt(childPte)} kB |`;
  },

  async forceswap() {
    const file = 'examples/forceswap/forceswap.yaml';
    const kernels = KERNELS;
    const published = { 'linux-5.8': ['1,606', '3.00'], 'linux-5.9': ['10,534 ¹', '4.00 ¹'] };
    const rows = [];
    const run = async (kernel, f = file) => {
      const r = await runScenarioFile(join(root, f), { kernel });
      const rounds = r.phases.write.steps;
      const remote = ['pageout', 'read', 'write'].reduce((n, ph) => n + c(r, ph, 'nr_tlb_remote_flush'), 0);
      const copies = c(r, 'write', 'cow_copy') + c(r, 'read', 'cow_copy');
      return [
        rounds,
        remote / rounds,
        copies / rounds,
        c(r, 'write', 'pgfault') / rounds,
        r.phases.write.cycles / rounds,
        r,
      ];
    };
    for (const k of kernels) {
      const [rounds, remote, copies, wf, cyc] = await run(k);
      const [pc, pf] = published[k] ?? ['—', '—'];
      rows.push(
        `| ${k} | ${fmt(rounds)} | ${fmt(remote, 2)} | ${pf} | ${fmt(copies, 2)} | ${fmt(wf, 2)} | ${fmt(cyc)} | ${pc} |`,
      );
    }
    const [rounds, remote, copies, wf, cyc, r] = await run(
      'linux-5.9',
      'examples/forceswap/forceswap-eager-drain.yaml',
    );
    rows.push(
      `| linux-5.9 + eager-drain plugin | ${fmt(rounds)} | ${fmt(remote, 2)} | — | ${fmt(copies, 2)} | ${fmt(wf, 2)} | ${fmt(cyc)} | — |`,
    );
    return `Measured by \`mmsim run ${file} --kernel K\` (hardware ${r.system.hardware}, profile kvm-guest, 2 threads, synchronous swap). Per round = total over all rounds / rounds (the first round CoWs the zero page and has no pending batched flush, so it has fewer flushes).

| kernel | rounds | remote flushes / round | published | copies / round | write faults / round | cycles / timed write | published |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

¹ seed 000 measured mainline cb690f5238d7 (Oct 2021, v5.15-rc), which has the v5.9 rule: 399,935 flushes per 100k rounds.`;
  },

  async seed001() {
    const rows = [];
    for (const k of KERNELS) {
      const r = await runScenarioFile(join(root, 'examples/refcount/seed001-uffd-wp.yaml'), { kernel: k });
      const n = r.phases.write.steps;
      const wpFaults = c(r, 'resolve', 'pgfault');
      rows.push(
        `| ${k} | ${fmt(c(r, 'resolve', 'cow_copy') / n, 2)} | ${fmt(c(r, 'resolve', 'pgreuse') / n, 2)} | ${fmt(wpFaults / n, 2)} | ${fmt(c(r, 'resolve', 'nr_tlb_remote_flush') / n, 2)} | ${fmt(r.phases.resolve.cycles / n)} | ${r.checks.failed === 0 ? 'ok' : r.checks.failed + ' failed'} |`,
      );
    }
    return `| kernel | copies / round | reuses / round | faults after UFFDIO_WRITEPROTECT / round | remote flushes / round | cycles (resolve + retried write) / round | reads |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}`;
  },

  async seed003() {
    const rows = [];
    for (const k of KERNELS) {
      const cells = [];
      for (const dev of ['sync', 'cache']) {
        const r = await runScenarioFile(join(root, `examples/refcount/seed003-swap-${dev}.yaml`), { kernel: k });
        cells.push(
          `${fmt(c(r, 'write', 'pgfault'))} / ${fmt(c(r, 'write', 'cow_copy'))} / ${fmt(c(r, 'write', 'pgreuse'))}`,
        );
        if (r.checks.failed) cells[cells.length - 1] += ' (check failed)';
      }
      rows.push(`| ${k} | ${cells.join(' | ')} |`);
    }
    return `Write phase, as faults / copies / reuses over 1,024 pages:

| kernel | synchronous device | swap-cache device |
| --- | ---: | ---: |
${rows.join('\n')}`;
  },

  async patch2() {
    const rows = [];
    for (const k of KERNELS) {
      const r = await runScenarioFile(join(root, 'examples/refcount/patch2-remote-batch.yaml'), { kernel: k });
      rows.push(
        `| ${k} | ${fmt(c(r, 'write-on-cpu0', 'pgfault'))} | ${fmt(c(r, 'write-on-cpu0', 'cow_copy'))} | ${fmt(c(r, 'write-on-cpu0', 'pgreuse'))} |`,
      );
    }
    return `Write phase on cpu 0 after the swap-in on cpu 1:

| kernel | write faults | copies | reuses |
| --- | ---: | ---: | ---: |
${rows.join('\n')}`;
  },

  async semantics() {
    const rows = [];
    for (const k of ['linux-5.7', ...KERNELS]) {
      const cells = [];
      for (const f of ['vmsplice', 'vmsplice-swap', 'vmsplice-thp']) {
        const r = await runScenarioFile(join(root, `examples/refcount/${f}.yaml`), { kernel: k });
        cells.push(r.checks.failed ? `**leaks** (${r.checks.failures[0].message})` : 'keeps the old contents');
      }
      rows.push(`| ${k} | ${cells.join(' | ')} |`);
    }
    return `| kernel | vmsplice | vmsplice through swap | vmsplice on a THP |
| --- | --- | --- | --- |
${rows.join('\n')}`;
  },

  async contpte() {
    const file = join(root, 'examples/contpte/tlb-reach.yaml');
    const rows = [];
    for (const [label, opts] of [
      ['contpte off', { contpte: false }],
      ['contpte on', { contpte: true }],
      ['contpte off, HPA 4', { contpte: false, hpa: 4 }],
    ]) {
      const loaded = await readScenario(file);
      const sc = structuredClone(loaded.scenario);
      sc.system.hardwareOptions = { ...sc.system.hardwareOptions, ...opts };
      const sys = await resolveSystem(sc.system, { baseDir: loaded.baseDir, file });
      const r = runScenario(sys, sc, { file });
      rows.push(
        `| ${label} | ${fmt(c(r, 'write', 'pgfault'))} | ${fmt(c(r, 'read', 'tlb_miss'))} | ${fmt(c(r, 'write', 'contpte_fold'))} | ${fmt(r.phases.read.cycles)} |`,
      );
    }
    const base = Number(rows[0].split('|')[3].replace(/,/g, ''));
    const on = Number(rows[1].split('|')[3].replace(/,/g, ''));
    return `| hardware | write faults | TLB misses while reading | contpte folds | cycles reading |
| --- | ---: | ---: | ---: | ---: |
${rows.join('\n')}

TLB misses drop ${fmt(base / on, 1)}× with the contiguous bit (one TLB entry per 16 pages).`;
  },

  async bench() {
    const out = execFileSync('node', [join(root, 'bench/run.mjs')], { encoding: 'utf8' });
    const x86 = execFileSync('node', [join(root, 'bench/run.mjs')], {
      encoding: 'utf8',
      env: { ...process.env, BENCH_HW: 'x86' },
    });
    const big = execFileSync('node', ['--max-old-space-size=8192', join(root, 'bench/run.mjs')], {
      encoding: 'utf8',
      env: { ...process.env, BENCH_GIB: '64' },
    });
    return (
      '```\n$ pnpm bench\n' +
      out.trim() +
      '\n\n$ BENCH_HW=x86 pnpm bench\n' +
      x86.trim() +
      '\n\n$ BENCH_GIB=64 pnpm bench\n' +
      big.trim() +
      '\n```'
    );
  },
};

const targets = {
  'fork-1g': ['README.md', 'table fork-1g'],
  forceswap: ['README.md', 'table forceswap'],
  seed001: ['examples/refcount/README.md', 'table seed001'],
  seed003: ['examples/refcount/README.md', 'table seed003'],
  patch2: ['examples/refcount/README.md', 'table patch2'],
  semantics: ['examples/refcount/README.md', 'table semantics'],
  contpte: ['examples/contpte/README.md', 'table contpte'],
  bench: ['README.md', 'bench'],
};
for (const [name, build] of Object.entries(tables)) {
  if (only.length && !only.includes(name)) continue;
  const body = await build();
  const [file, marker] = targets[name];
  replace(file, marker, body);
}
