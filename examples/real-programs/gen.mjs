#!/usr/bin/env node
/**
 * Rewrites the tables of README.md between `<!-- mmsim:table NAME -->` and `<!-- /mmsim:table -->`:
 * each is ONE `mmsim compare … --json` of the built CLI over a recorded trace (replay step),
 * printed above the table, joined with the real kernel's figures that record.mjs measured on
 * this machine (native/NAME.json).
 *
 *   node examples/real-programs/record.mjs redis && node examples/real-programs/record.mjs gcc
 *   node examples/real-programs/gen.mjs [redis] [gcc]
 *
 * Needs `pnpm build` and the traces (traces/ is not in git: record.mjs makes them).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceMarked } from '../readme-markers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const bin = 'packages/cli/dist/bin.js';
const readmePath = path.join(here, 'README.md');
const only = process.argv.slice(2);
const GHZ = 3; // hw-x86's profile is in cycles at ~3 GHz

if (!existsSync(path.join(root, bin))) throw new Error(`${bin} is missing: run \`pnpm build\` first`);

const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
function compare(file, args) {
  const trace = path.join(here, 'traces', `${path.basename(file, '.yaml')}.mmtrace`);
  if (!existsSync(trace))
    throw new Error(
      `${path.relative(root, trace)} is missing: node examples/real-programs/record.mjs ${path.basename(file, '.yaml').split('-')[0]}`,
    );
  const argv = ['compare', path.relative(root, path.join(here, file)), ...args, '--json'];
  const out = execFileSync(process.execPath, [bin, ...argv], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
  return {
    configs: JSON.parse(out).configs,
    measuredBy: `Measured by: \`${['node', bin, ...argv].map(quote).join(' ')}\``,
  };
}
const native = (name) => JSON.parse(readFileSync(path.join(here, 'native', `${name}.json`), 'utf8'));
const fmt = (n, d = 0) =>
  n === undefined || Number.isNaN(n)
    ? ''
    : Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const range = (s, d = 0) =>
  s.min === s.max ? fmt(s.median, d) : `${fmt(s.median, d)} (${fmt(s.min, d)} – ${fmt(s.max, d)})`;
const ctr = (phase, name) => phase?.counters?.[name] ?? 0;

const tables = {
  redis() {
    const kernels = ['linux-5.8', 'linux-5.9', 'linux-5.18', 'linux-6.18', 'linux-6.18+cowpte'];
    const c = compare(
      'redis.yaml',
      kernels.flatMap((k) => ['--kernel', k]),
    );
    const n = native('redis');
    const lines = c.configs.map((cfg) => {
      const r = cfg.result;
      const load = r.phases.load;
      const fork = r.phases.fork;
      const bg = r.phases.bgsave;
      const replay = r.replay?.[0];
      const server = load.meminfo.processes?.redis;
      return `| ${cfg.kernel} | ${fmt(ctr(load, 'pgfault'))} | ${fmt(server?.VmRSS)} | ${fmt(load.meminfo.PageTables)} | ${fmt(fork.cycles)} | ${fmt(fork.cycles / (GHZ * 1000), 1)} | ${fmt(ctr(bg, 'pgfault'))} | ${fmt(ctr(bg, 'cow_copy'))} | ${fmt(ctr(bg, 'pgreuse'))} | ${fmt(replay?.records)} |`;
    });
    const m = n.machine;
    return `\`redis.yaml\`: the recorded trace of ${n.program.split(' ').slice(0, 3).join(' ')} (${n.workload.requests} SETs of ${n.workload.valueBytes} B over ${n.workload.keyspace} keys, then BGSAVE), replayed on x86 (2 CPUs, the kvm-guest profile: this machine is a KVM guest) under each kernel. mmsim's fork time is the fork phase's cycles at ${GHZ} GHz.

${c.measuredBy}

| kernel | load: pgfault | load: VmRSS kB | load: PageTables kB | fork: cycles | fork: µs | bgsave: pgfault | bgsave: cow_copy | bgsave: pgreuse | trace records |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${lines.join('\n')}

The real kernel (this machine: Linux ${m.kernel}, ${m.cpus} CPUs, ${m.date}; \`node examples/real-programs/record.mjs redis\`, ${n.keys.runs.length} native runs, median (min – max)), the same workload without valgrind:

| figure | real kernel | what it is |
| --- | ---: | --- |
| keys | ${range(n.keys)} | \`DBSIZE\` after the load |
| load: minor faults | ${range(n.load_minflt)} | the server's \`/proc/PID/stat\` minflt before BGSAVE |
| load: VmRSS kB | ${range(n.load_VmRSS_kB)} | \`/proc/PID/status\` before BGSAVE |
| load: VmPTE kB | ${range(n.load_VmPTE_kB)} | \`/proc/PID/status\` before BGSAVE (PageTables of the one process) |
| fork µs | ${range(n.latest_fork_usec)} | \`INFO stats\` latest_fork_usec |
| bgsave: parent minor faults | ${range(n.bgsave_parent_minflt)} | minflt after the child was reaped, minus before |
| bgsave: child minor faults | ${range(n.bgsave_child_minflt)} | the server's cminflt after the child was reaped |
| bgsave: CoW bytes | ${range(n.rdb_last_cow_size)} | \`INFO persistence\` rdb_last_cow_size (the child's private dirty memory) |`;
  },

  gcc() {
    const variants = [
      ['4K', {}],
      ['16K mTHP', { '16K': 'always' }],
      ['64K mTHP', { '64K': 'always' }],
    ];
    const thp = (extra) => ({ top: 'never', '2048K': 'never', ...extra });
    const c = compare(
      'gcc.yaml',
      variants.flatMap(([, extra]) => ['--set', `system.thp=${JSON.stringify(thp(extra))}`]),
    );
    const n = native('gcc');
    const nat = { '4K': n.rows['4K'], '16K mTHP': n.rows['16K'], '64K mTHP': n.rows['64K'] };
    const lines = c.configs.map((cfg, i) => {
      const [label] = variants[i];
      const t = cfg.result.total;
      const size = label.startsWith('16K') ? '16' : label.startsWith('64K') ? '64' : undefined;
      const alloc = size ? fmt(ctr(t, `mthp_${size}kB_anon_fault_alloc`)) : '';
      const real = nat[label];
      const realAlloc = size ? range(real.anon_fault_alloc[`${size}kB`]) : '';
      return `| ${label} | ${fmt(ctr(t, 'pgfault'))} | ${range(real.minflt)} | ${alloc} | ${realAlloc} | ${fmt(cfg.result.rusage?.maxrssKb)} | ${range(real.maxrss_kB)} | ${fmt(ctr(t, 'tlb_miss'))} | ${fmt(t.kernelCycles)} |`;
    });
    const m = n.machine;
    return `\`gcc.yaml\`: the recorded trace of \`sh -c '${n.workload.command}'\` (${n.program}), replayed on x86 (2 CPUs, kvm-guest profile, linux-6.18) with 4 KiB pages only and with 16K or 64K anonymous mTHP (\`system.thp\`). Real kernel: this machine (Linux ${m.kernel}, ${m.cpus} CPUs, ${m.date}), the build run natively by \`node examples/real-programs/record.mjs gcc\` under a \`posix_spawn()\` launcher (getrusage(RUSAGE_CHILDREN) of the whole build), the per-size \`hugepages-*/enabled\` set as the row says, ${n.rows['4K'].minflt.runs.length} runs, median (min – max).

${c.measuredBy}

| anonymous folios | mmsim pgfault | real minflt | mmsim mTHP fault allocs | real anon_fault_alloc | mmsim max RSS kB | real max RSS kB | mmsim tlb_miss | mmsim kernel cycles |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${lines.join('\n')}

Max RSS is getrusage()'s ru_maxrss on both sides (mmsim: the largest hiwater_rss of the replayed processes, the document's \`rusage.maxrssKb\`). The trace is recorded with \`--fetches\`: without the compilers' text pages (their first instruction fetch), the replay's max RSS was 6.6 MB. The real anon_fault_alloc counts are system-wide (sysfs \`hugepages-*/stats\`): other processes' faults during a run are in them (the range shows it). The real TLB misses are not measurable here: this VM's perf has no dTLB events (\`perf stat -e dTLB-load-misses\` says \`<not supported>\`).`;
  },
};

function replace(name, body) {
  replaceMarked(readmePath, `table ${name}`, body, 'examples/real-programs/README.md');
}

for (const [name, fn] of Object.entries(tables)) {
  if (only.length > 0 && !only.includes(name)) continue;
  replace(name, fn());
}
