#!/usr/bin/env node
// Regenerates the measured tables in README.md files from the scenarios next to them
// (pnpm examples:readme, after pnpm build). Nothing in those tables is typed by hand: every
// measured table comes from one `mmsim compare ... --json` run (its command line is printed
// above the table); this script only joins that JSON with the published columns and formats it.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceMarked } from './readme-markers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const only = process.argv.slice(2);
const bin = join(root, 'packages/cli/dist/bin.js');

function replace(file, marker, body) {
  replaceMarked(join(root, file), marker, body, file);
}

const KERNELS = ['linux-5.8', 'linux-5.9', 'linux-5.18', 'linux-5.19', 'linux-6.8', 'linux-6.18'];
const kernelFlags = (ks = KERNELS) => ks.flatMap((k) => ['--kernel', k]);
const fmt = (n, d = 0) =>
  n === undefined || Number.isNaN(n)
    ? '—'
    : n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const c = (r, ph, k) => r.phases[ph]?.counters[k] ?? 0;

/** A shell-quoted argument for the "Measured by" line. */
const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/**
 * Run `mmsim compare FILE ARGS --jobs 2 --json` and return { cmd, doc }: `cmd` is the command
 * line for the README (without --jobs/--json), `doc` the parsed { baseline, configs }.
 * Exit 1 (a check failed) still prints the document: the semantics table reports failures.
 */
function compare(file, args) {
  const argv = [bin, 'compare', file, ...args, '--jobs', '2', '--json'];
  let out;
  try {
    out = execFileSync('node', argv, {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  } catch (e) {
    if (e.status !== 1 || !e.stdout) throw e;
    out = e.stdout;
  }
  const doc = JSON.parse(out);
  return { cmd: `mmsim compare ${[file, ...args].map(quote).join(' ')}`, doc };
}

/** The result of the configuration matching `pred` (exactly one). */
function pick(doc, pred) {
  const hits = doc.configs.filter(pred);
  if (hits.length !== 1) throw new Error(`expected one configuration, got ${hits.length}`);
  return hits[0].result;
}
const byKernel = (doc, k, extra = () => true) => pick(doc, (e) => e.kernel === k && extra(e));

const hasPart = (e, part) => e.label.split('/').includes(part);

const tables = {
  async 'fork-1g'() {
    const { cmd, doc } = compare('examples/fork-1g/fork-1g.yaml', []);
    const r = doc.configs[0].result;
    const rows = Object.entries(r.phases).map(
      ([name, p]) =>
        `| ${name} | ${fmt(p.counters.pgfault ?? 0)} | ${fmt(p.counters.cow_copy ?? 0)} | ${fmt(p.counters.pgreuse ?? 0)} | ${fmt(p.counters.fork_pte_copy ?? 0)} | ${fmt(p.meminfo.PageTables)} | ${fmt(p.meminfo.AnonPages)} | ${fmt(p.cycles)} |`,
    );
    const before = r.phases.touch.meminfo.PageTables;
    const after = r.phases.fork.meminfo.PageTables;
    const childPte = r.phases.fork.meminfo.processes.c?.VmPTE;
    return `Measured by \`${cmd}\` (hardware ${r.system.hardware}, kernel ${r.system.kernel}):

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
    const published = { 'linux-5.8': ['1,606', '3.00'], 'linux-5.9': ['10,534 ¹', '4.00 ¹'] };
    const { cmd, doc } = compare('examples/forceswap/forceswap.yaml', [
      ...kernelFlags(),
      '--policy',
      '@mmsim-example/policy-eager-drain={"allCpus":true}',
    ]);
    const perRound = (r) => {
      const rounds = r.phases.write.steps;
      const remote = ['pageout', 'read', 'write'].reduce((n, ph) => n + c(r, ph, 'nr_tlb_remote_flush'), 0);
      const copies = c(r, 'write', 'cow_copy') + c(r, 'read', 'cow_copy');
      return [
        rounds,
        remote / rounds,
        copies / rounds,
        c(r, 'write', 'pgfault') / rounds,
        r.phases.write.cycles / rounds,
      ];
    };
    const rows = [];
    for (const k of KERNELS) {
      const [rounds, remote, copies, wf, cyc] = perRound(byKernel(doc, k, (e) => e.policies.length === 0));
      const [pc, pf] = published[k] ?? ['—', '—'];
      rows.push(
        `| ${k} | ${fmt(rounds)} | ${fmt(remote, 2)} | ${pf} | ${fmt(copies, 2)} | ${fmt(wf, 2)} | ${fmt(cyc)} | ${pc} |`,
      );
    }
    const r = byKernel(doc, 'linux-5.9', (e) => e.policies.length === 1);
    const [rounds, remote, copies, wf, cyc] = perRound(r);
    rows.push(
      `| linux-5.9 + eager-drain plugin | ${fmt(rounds)} | ${fmt(remote, 2)} | — | ${fmt(copies, 2)} | ${fmt(wf, 2)} | ${fmt(cyc)} | — |`,
    );
    return `Measured by \`${cmd}\` (hardware ${r.system.hardware}, profile kvm-guest, 2 threads, synchronous swap; the table shows the plugin only under linux-5.9). Per round = total over all rounds / rounds (the first round CoWs the zero page and has no pending batched flush, so it has fewer flushes).

| kernel | rounds | remote flushes / round | published | copies / round | write faults / round | cycles / timed write | published |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

¹ seed 000 measured mainline cb690f5238d7 (Oct 2021, v5.15-rc), which has the v5.9 rule: 399,935 flushes per 100k rounds.`;
  },

  async seed001() {
    const { cmd, doc } = compare('examples/refcount/seed001-uffd-wp.yaml', kernelFlags());
    const rows = [];
    for (const k of KERNELS) {
      const r = byKernel(doc, k);
      const n = r.phases.write.steps;
      const wpFaults = c(r, 'resolve', 'pgfault');
      rows.push(
        `| ${k} | ${fmt(c(r, 'resolve', 'cow_copy') / n, 2)} | ${fmt(c(r, 'resolve', 'pgreuse') / n, 2)} | ${fmt(wpFaults / n, 2)} | ${fmt(c(r, 'resolve', 'nr_tlb_remote_flush') / n, 2)} | ${fmt(r.phases.resolve.cycles / n)} | ${r.checks.failed === 0 ? 'ok' : r.checks.failed + ' failed'} |`,
      );
    }
    return `Measured by \`${cmd}\`:

| kernel | copies / round | reuses / round | faults after UFFDIO_WRITEPROTECT / round | remote flushes / round | cycles (resolve + retried write) / round | reads |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}`;
  },

  async seed003() {
    const { cmd, doc } = compare('examples/refcount/seed003-swap-sync.yaml', [
      ...kernelFlags(),
      '--set',
      'system.swap.synchronousIo=true',
      '--set',
      'system.swap.synchronousIo=false',
    ]);
    const rows = [];
    for (const k of KERNELS) {
      const cells = [];
      for (const sync of ['true', 'false']) {
        const r = byKernel(doc, k, (e) => hasPart(e, `synchronousIo=${sync}`));
        cells.push(
          `${fmt(c(r, 'write', 'pgfault'))} / ${fmt(c(r, 'write', 'cow_copy'))} / ${fmt(c(r, 'write', 'pgreuse'))}`,
        );
        if (r.checks.failed) cells[cells.length - 1] += ' (check failed)';
      }
      rows.push(`| ${k} | ${cells.join(' | ')} |`);
    }
    return `Measured by \`${cmd}\`. Write phase, as faults / copies / reuses over 1,024 pages:

| kernel | synchronous device | swap-cache device |
| --- | ---: | ---: |
${rows.join('\n')}`;
  },

  async patch2() {
    const { cmd, doc } = compare('examples/refcount/patch2-remote-batch.yaml', kernelFlags());
    const rows = [];
    for (const k of KERNELS) {
      const r = byKernel(doc, k);
      rows.push(
        `| ${k} | ${fmt(c(r, 'write-on-cpu0', 'pgfault'))} | ${fmt(c(r, 'write-on-cpu0', 'cow_copy'))} | ${fmt(c(r, 'write-on-cpu0', 'pgreuse'))} |`,
      );
    }
    return `Measured by \`${cmd}\`. Write phase on cpu 0 after the swap-in on cpu 1:

| kernel | write faults | copies | reuses |
| --- | ---: | ---: | ---: |
${rows.join('\n')}`;
  },

  async why() {
    // one mmsim compare --explain --json per scenario; `decisions` of the phase that writes
    const cases = [
      ['seed 000 forceswap (100,000 rounds)', 'examples/forceswap/forceswap.yaml', [], 'write'],
      ['seed 001 uffd write-protect (1,000 rounds)', 'examples/refcount/seed001-uffd-wp.yaml', [], 'resolve'],
      [
        'seed 003 swap-in, synchronous device',
        'examples/refcount/seed003-swap-sync.yaml',
        ['--set', 'system.swap.synchronousIo=true'],
        'write',
      ],
      [
        'seed 003 swap-in, swap-cache device',
        'examples/refcount/seed003-swap-sync.yaml',
        ['--set', 'system.swap.synchronousIo=false'],
        'write',
      ],
      [
        'patch 2 limit: swap-in on cpu 1, write on cpu 0',
        'examples/refcount/patch2-remote-batch.yaml',
        [],
        'write-on-cpu0',
      ],
    ];
    const ks = ['linux-5.9', 'linux-5.18'];
    const cmds = [];
    const rows = [];
    for (const [what, file, extra, phase] of cases) {
      const { cmd, doc } = compare(file, [...kernelFlags(ks), ...extra, '--explain']);
      cmds.push(cmd);
      for (const k of ks) {
        const r = byKernel(doc, k);
        const copy = r.phases[phase]?.decisions?.['fault.wpReuse']?.copy ?? { count: 0 };
        const by = copy.by ?? {};
        rows.push(
          `| ${what} | ${k} | ${fmt(copy.count)} | ${fmt(by.lru_batch_local ?? 0)} | ${fmt(by.lru_batch_remote ?? 0)} | ${fmt(by.swapcache ?? 0)} | ${fmt(by.mapped ?? 0)} | ${fmt(copy.avoidable_by_drain_local ?? 0)} | ${fmt(copy.avoidable_by_drain_all ?? 0)} | ${fmt(copy.avoidable_by_free_swap ?? 0)} |`,
        );
      }
    }
    return `Measured by ${cmds.map((c) => `\`${c}\``).join(', ')}. Copies of the write phase, counted under each reference present beyond the faulting mapping (\`by\`), and the copies a drain or freeing the swap cache would have turned into reuses (refcount 1):

| scenario | kernel | copies | LRU batch of the faulting CPU | LRU batch of another CPU | swap cache | other mappings | avoidable by local drain | by drain all | by freeing swap |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}`;
  },

  async semantics() {
    const kernels = ['linux-5.7', ...KERNELS];
    const files = ['vmsplice', 'vmsplice-swap', 'vmsplice-thp'];
    // one compare per column (one scenario file each)
    const runs = files.map((f) => compare(`examples/refcount/${f}.yaml`, kernelFlags(kernels)));
    const rows = [];
    for (const k of kernels) {
      const cells = runs.map(({ doc }) => {
        const r = byKernel(doc, k);
        return r.checks.failed ? `**leaks** (${r.checks.failures[0].message})` : 'keeps the old contents';
      });
      rows.push(`| ${k} | ${cells.join(' | ')} |`);
    }
    return `Measured by ${runs.map(({ cmd }) => `\`${cmd}\``).join(', ')} (one per column):

| kernel | vmsplice | vmsplice through swap | vmsplice on a THP |
| --- | --- | --- | --- |
${rows.join('\n')}`;
  },

  async contpte() {
    const { cmd, doc } = compare('examples/contpte/tlb-reach.yaml', [
      '--set',
      'system.hardwareOptions.contpte=false',
      '--set',
      'system.hardwareOptions.contpte=true',
      '--set',
      'system.hardwareOptions.hpa=0',
      '--set',
      'system.hardwareOptions.hpa=4',
    ]);
    const rows = [];
    for (const [label, contpte, hpa] of [
      ['contpte off', false, 0],
      ['contpte on', true, 0],
      ['contpte off, HPA 4', false, 4],
    ]) {
      const r = pick(doc, (e) => hasPart(e, `contpte=${contpte}`) && hasPart(e, `hpa=${hpa}`));
      rows.push(
        `| ${label} | ${fmt(c(r, 'write', 'pgfault'))} | ${fmt(c(r, 'read', 'tlb_miss'))} | ${fmt(c(r, 'write', 'contpte_fold'))} | ${fmt(r.phases.read.cycles)} |`,
      );
    }
    const base = Number(rows[0].split('|')[3].replace(/,/g, ''));
    const on = Number(rows[1].split('|')[3].replace(/,/g, ''));
    return `Measured by \`${cmd}\` (contpte on with HPA 4 is run too and not shown):

| hardware | write faults | TLB misses while reading | contpte folds | cycles reading |
| --- | ---: | ---: | ---: | ---: |
${rows.join('\n')}

TLB misses drop ${fmt(base / on, 1)}× with the contiguous bit (one TLB entry per 16 pages).`;
  },

  async bench() {
    // one run prints every figure (bench/README.md); --big always shows the 64 GiB mode
    const out = execFileSync('node', [join(root, 'bench/run.mjs'), '--no-compare', '--big'], { encoding: 'utf8' });
    return '```\n$ node bench/run.mjs --no-compare --big\n' + out.trim() + '\n```';
  },
};

// examples/pressure: 64 MiB of RAM, 256 MiB of swap, 128 MiB written then read (issue 17)
tables.pressure = async () => {
  const { cmd, doc } = compare('examples/pressure/pressure-64m.yaml', [
    '--kernel',
    'linux-5.8',
    '--kernel',
    'linux-6.18',
    '--hardware',
    'x86',
    '--hardware',
    'arm64',
  ]);
  const names = [
    'pswpout',
    'pswpin',
    'pgscan_kswapd',
    'pgscan_direct',
    'pgsteal_kswapd',
    'pgsteal_direct',
    'allocstall_normal',
    'pgactivate',
    'pgdeactivate',
    'workingset_refault_anon',
    'workingset_activate_anon',
  ];
  const rows = [];
  for (const e of doc.configs) {
    for (const ph of ['fill', 'reread']) {
      rows.push(`| ${e.kernel} | ${e.hardware} | ${ph} | ${names.map((n) => fmt(c(e.result, ph, n))).join(' | ')} |`);
    }
  }
  return `Measured by \`${cmd}\`:

| kernel | hardware | phase | ${names.join(' | ')} |
| --- | --- | --- | ${names.map(() => '---:').join(' | ')} |
${rows.join('\n')}`;
};

// examples/pressure: the hot-cold workload on the two-list LRU and on the multi-gen LRU (issue 17 part 2)
tables['pressure-mglru'] = async () => {
  const { cmd, doc } = compare('examples/pressure/hot-cold-64m.yaml', [
    '--set',
    'system.vm.lruGen=false',
    '--set',
    'system.vm.lruGen=true',
    '--hardware',
    'x86',
    '--hardware',
    'arm64',
  ]);
  const names = [
    'pswpout',
    'pswpin',
    'workingset_refault_anon',
    'workingset_activate_anon',
    'pgscan_kswapd',
    'pgscan_direct',
    'allocstall_normal',
    'pgactivate',
    'nr_tlb_remote_flush',
    'tlbi_broadcast',
  ];
  const rows = [];
  for (const e of doc.configs) {
    const lru = hasPart(e, 'lruGen=true') ? 'multi-gen' : 'two-list';
    const ph = 'stream';
    rows.push(
      `| ${lru} | ${e.hardware} | ${names.map((n) => fmt(c(e.result, ph, n))).join(' | ')} | ${fmt(e.result.phases[ph].cycles)} |`,
    );
  }
  return `Measured by \`${cmd}\` (the \`stream\` phase):

| LRU | hardware | ${names.join(' | ')} | cycles |
| --- | --- | ${names.map(() => '---:').join(' | ')} | ---: |
${rows.join('\n')}`;
};

// examples/memcg: Redis in a 256 MiB cgroup on a 1 GiB machine (issue 17 part 3)
tables.memcg = async () => {
  const { cmd, doc } = compare('examples/memcg/redis-256m.yaml', [
    '--kernel',
    'linux-5.9',
    '--kernel',
    'linux-5.18',
    '--kernel',
    'linux-6.18',
  ]);
  const phases = ['load', 'read', 'write', 'bgsave'];
  const vm = ['pswpout', 'pswpin', 'workingset_refault_anon', 'workingset_activate_anon', 'cow_copy'];
  const stat = ['pgscan', 'pgsteal', 'pgscan_direct', 'pgscan_kswapd'];
  const mib = (b) => fmt(b / 1048576, 1);
  const rows = [];
  for (const e of doc.configs) {
    let prev = null;
    for (const ph of phases) {
      const cg = e.result.phases[ph].meminfo.cgroups.redis;
      // memory.stat and memory.events are cumulative, as the files are: the phase's share is the difference
      const d = (get) => get(cg) - (prev === null ? 0 : get(prev));
      const cells = [
        ...stat.map((n) => fmt(d((x) => x['memory.stat'][n]))),
        fmt(d((x) => x['memory.events'].max)),
        ...vm.map((n) => fmt(c(e.result, ph, n))),
        fmt(c(e.result, ph, 'pgscan_kswapd') + c(e.result, ph, 'pgscan_direct')),
        mib(cg['memory.current']),
        mib(cg['memory.swap.current']),
      ];
      rows.push(`| ${e.kernel} | ${ph} | ${cells.join(' | ')} |`);
      prev = cg;
    }
  }
  const head = [
    ...stat.map((n) => `memory.stat ${n}`),
    'memory.events max',
    ...vm,
    'vmstat pgscan (global)',
    'memory.current MiB',
    'memory.swap.current MiB',
  ];
  return `Measured by \`${cmd}\` (memory.stat and memory.events: the phase's increase; memory.current and memory.swap.current: at the end of the phase):

| kernel | phase | ${head.join(' | ')} |
| --- | --- | ${head.map(() => '---:').join(' | ')} |
${rows.join('\n')}`;
};

// examples/pressure: seed 003 under pressure, a 96 MiB Redis-like dataset in 64 MiB of RAM
tables.seed003pressure = async () => {
  const ks = ['linux-5.8', 'linux-5.9', 'linux-5.18', 'linux-6.18'];
  const { cmd, doc } = compare('examples/pressure/seed003-redis.yaml', [
    ...kernelFlags(ks),
    '--set',
    'system.swap.synchronousIo=true',
    '--set',
    'system.swap.synchronousIo=false',
  ]);
  const rows = [];
  for (const k of ks) {
    for (const sync of ['true', 'false']) {
      const r = byKernel(doc, k, (e) => hasPart(e, `synchronousIo=${sync}`));
      const w = r.phases.write;
      const perFault = (w?.kernelCycles ?? 0) / Math.max(1, c(r, 'write', 'pgfault'));
      rows.push(
        `| ${k} | ${sync === 'true' ? 'synchronous (zram)' : 'swap cache'} | ${fmt(c(r, 'load', 'pswpout'))} | ${fmt(c(r, 'read', 'pswpin'))} | ${fmt(c(r, 'read', 'workingset_refault_anon'))} | ${fmt(c(r, 'write', 'pgfault'))} | ${fmt(c(r, 'write', 'pswpin'))} | ${fmt(c(r, 'write', 'cow_copy'))} | ${fmt(c(r, 'write', 'pgreuse'))} | ${fmt(c(r, 'write', 'workingset_refault_anon'))} | ${fmt(w?.kernelCycles ?? 0)} | ${fmt(perFault)} |${r.checks.failed ? ' (check failed)' : ''}`,
      );
    }
  }
  return `Measured by \`${cmd}\`:

| kernel | swap device | load: pswpout | read: pswpin | read: refaults | write: faults | write: pswpin | write: copies | write: reuses | write: refaults | write: kernel cycles | kernel cycles / write fault |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}`;
};

// examples/filemem: a library mapped privately, a shared log, shmem, fork, a 48 MiB stream (issue 17 part 4)
tables.filemem = async () => {
  const { cmd, doc } = compare('examples/filemem/filemem.yaml', ['--kernel', 'linux-5.8', '--kernel', 'linux-6.18']);
  const names = [
    'pgfault',
    'pgmajfault',
    'pgpgin',
    'pgpgout',
    'nr_written',
    'pswpout',
    'pgsteal',
    'pgactivate',
    'workingset_refault_file',
  ];
  const mem = ['Cached', 'Mapped', 'Dirty', 'Shmem'];
  const rows = [];
  for (const e of doc.configs) {
    for (const [ph, p] of Object.entries(e.result.phases)) {
      if (ph === 'main') continue;
      rows.push(
        `| ${e.kernel} | ${ph} | ${names.map((n) => fmt(c(e.result, ph, n))).join(' | ')} | ${mem.map((m) => fmt(p.meminfo[m])).join(' | ')} |`,
      );
    }
  }
  return `Measured by \`${cmd}\` (meminfo in kB at the end of each phase):

| kernel | phase | ${names.join(' | ')} | ${mem.join(' | ')} |
| --- | --- | ${[...names, ...mem].map(() => '---:').join(' | ')} |
${rows.join('\n')}`;
};

const targets = {
  filemem: ['examples/filemem/README.md', 'table filemem'],
  pressure: ['examples/pressure/README.md', 'table pressure'],
  'pressure-mglru': ['examples/pressure/README.md', 'table pressure-mglru'],
  seed003pressure: ['examples/pressure/README.md', 'table seed003pressure'],
  memcg: ['examples/memcg/README.md', 'table memcg'],
  'fork-1g': ['README.md', 'table fork-1g'],
  forceswap: ['README.md', 'table forceswap'],
  seed001: ['examples/refcount/README.md', 'table seed001'],
  seed003: ['examples/refcount/README.md', 'table seed003'],
  patch2: ['examples/refcount/README.md', 'table patch2'],
  semantics: ['examples/refcount/README.md', 'table semantics'],
  why: ['README.md', 'table why'],
  contpte: ['examples/contpte/README.md', 'table contpte'],
  bench: ['README.md', 'bench'],
};
for (const [name, build] of Object.entries(tables)) {
  if (only.length && !only.includes(name)) continue;
  const body = await build();
  const [file, marker] = targets[name];
  replace(file, marker, body);
}
