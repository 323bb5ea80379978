#!/usr/bin/env node
// Runs faults.c on this machine for each anonymous THP size (hugepages-<size>kB/enabled =
// always, every other size never; the settings are restored afterwards) and the same
// scenarios in mmsim (kernel linux-6.18 with the matching `thp:` block), then rewrites the
// comparison table in examples/large-folio/README.md. Needs root, gcc and `pnpm build`.
//   node tools/realkernel/compare.mjs [MIB]        (default 16)
//   node tools/realkernel/compare.mjs --sim-only   (reuse tools/realkernel/results.json)
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
// tools/ is not a workspace package: load the built CLI through the examples package
const { runScenarioFile } = await import(
  pathToFileURL(createRequire(join(root, 'examples/package.json')).resolve('@mmsim/cli')).href
);
const simOnly = process.argv.includes('--sim-only');
const MIB = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 16);
const THP = '/sys/kernel/mm/transparent_hugepage';
const SIZES = ['4K', '16K', '32K', '64K', '128K', '256K', '512K', '1024K', '2048K'];
const SCENARIOS = ['touch', 'read-write', 'fork-cow', 'pageout'];
const resultsFile = join(here, 'results.json');

function readMode(file) {
  return /\[(\w+)\]/.exec(readFileSync(file, 'utf8'))[1];
}

function measureReal() {
  const bin = join(tmpdir(), 'mmsim-faults');
  execFileSync('gcc', ['-O2', '-o', bin, join(here, 'faults.c')]);
  const dirs = readdirSync(THP).filter((d) => /^hugepages-\d+kB$/.test(d) && existsSync(join(THP, d, 'enabled')));
  const saved = { top: readMode(join(THP, 'enabled')) };
  for (const d of dirs) saved[d] = readMode(join(THP, d, 'enabled'));
  const set = (d, mode) => writeFileSync(d === 'top' ? join(THP, 'enabled') : join(THP, d, 'enabled'), mode);
  const out = { kernel: execFileSync('uname', ['-r']).toString().trim(), mib: MIB, runs: {} };
  // the pageout scenario needs swap: bring up /dev/zram0 (toolchain.md) if none is active,
  // and take it down again afterwards
  const swapActive = readFileSync('/proc/swaps', 'utf8').trim().split('\n').length > 1;
  const zram = !swapActive && existsSync('/sys/block/zram0');
  if (zram) {
    writeFileSync('/sys/block/zram0/disksize', '512M');
    execFileSync('mkswap', ['/dev/zram0'], { stdio: 'ignore' });
    execFileSync('swapon', ['/dev/zram0']);
  }
  try {
    for (const size of SIZES) {
      set('top', 'never');
      for (const d of dirs) set(d, d === `hugepages-${size.slice(0, -1)}kB` ? 'always' : 'never');
      out.runs[size] = {};
      for (const sc of SCENARIOS) out.runs[size][sc] = JSON.parse(execFileSync(bin, [sc, String(MIB)]).toString());
    }
  } finally {
    for (const [d, mode] of Object.entries(saved)) set(d, mode);
    if (zram) {
      execFileSync('swapoff', ['/dev/zram0']);
      writeFileSync('/sys/block/zram0/reset', '1');
    }
  }
  writeFileSync(resultsFile, JSON.stringify(out, null, 2) + '\n');
  return out;
}

/** The same scenario for mmsim, as a scenario file (phases named like faults.c's). */
function simScenario(sc, size) {
  const thp = { top: 'never', '2048K': 'never' };
  if (size !== '4K') thp[size] = 'always';
  const steps = [
    { op: 'spawn', pid: 'p' },
    { op: 'mmap', pid: 'p', name: 'a', size: `${MIB}MiB` },
  ];
  const touch = (pid, access, phase) => ({ op: 'touch', pid, region: 'a', access, phase });
  if (sc === 'touch') steps.push(touch('p', 'write', 'touch'));
  if (sc === 'read-write') steps.push(touch('p', 'read', 'read'), touch('p', 'write', 'write'));
  if (sc === 'fork-cow') {
    steps.push(
      touch('p', 'write', 'touch'),
      { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
      touch('c', 'write', 'child-cow'),
    );
    steps.push({ op: 'exit', pid: 'c', phase: 'exit' }, touch('p', 'write', 'parent-after-exit'));
  }
  if (sc === 'pageout') {
    steps.push(touch('p', 'write', 'touch'), {
      op: 'madvise',
      pid: 'p',
      region: 'a',
      advice: 'pageout',
      phase: 'pageout',
    });
    steps.push(touch('p', 'read', 'read'), touch('p', 'write', 'write'));
  }
  return {
    name: `realkernel-${sc}-${size}`,
    system: { hardware: 'flat', kernel: 'linux-6.18', thp, swap: { synchronousIo: true } },
    steps,
  };
}

const real = simOnly ? JSON.parse(readFileSync(resultsFile, 'utf8')) : measureReal();
const tmp = mkdtempSync(join(tmpdir(), 'mmsim-rk-'));
const rows = [];
let maxDiff = 0;
for (const size of SIZES) {
  for (const sc of SCENARIOS) {
    const file = join(tmp, `${sc}-${size}.json`);
    writeFileSync(file, JSON.stringify(simScenario(sc, size)));
    const r = await runScenarioFile(file);
    const rk = real.runs[size][sc];
    for (const [phase, v] of Object.entries(rk)) {
      const realFaults = (v.minflt ?? 0) + (v.majflt ?? 0);
      const p = r.phases[phase];
      const sim = p ? (p.counters.pgfault ?? 0) : 0;
      const simMaj = p ? (p.counters.pgmajfault ?? 0) : 0;
      const d = sim - realFaults;
      maxDiff = Math.max(maxDiff, Math.abs(d));
      rows.push(
        `| ${size} | ${sc} | ${phase} | ${realFaults.toLocaleString('en-US')} (${(v.majflt ?? 0).toLocaleString('en-US')} major) | ${sim.toLocaleString('en-US')} (${simMaj.toLocaleString('en-US')} major) | ${d > 0 ? '+' : ''}${d} |`,
      );
    }
  }
}

const body = `Real kernel ${real.kernel} on this machine (\`tools/realkernel/faults.c\`, ${real.mib} MiB, getrusage minor + major faults per phase; zram swap) against mmsim \`linux-6.18\` with the matching \`thp:\` block (\`hugepages-<size>kB/enabled = always\`, every other size and the top-level switch \`never\`). Regenerate with \`node tools/realkernel/compare.mjs\` (root; restores sysfs). Largest difference: ${maxDiff} faults.

| size | scenario | phase | real kernel | mmsim linux-6.18 | diff |
| --- | --- | --- | ---: | ---: | ---: |
${rows.join('\n')}`;

const readme = join(root, 'examples/large-folio/README.md');
if (existsSync(readme)) {
  const text = readFileSync(readme, 'utf8');
  const open = '<!-- mmsim:table realkernel -->';
  const close = '<!-- /mmsim:table -->';
  const a = text.indexOf(open);
  const b = text.indexOf(close, a);
  if (a < 0 || b < 0) throw new Error('README: realkernel markers not found');
  writeFileSync(readme, text.slice(0, a + open.length) + '\n' + body + '\n' + text.slice(b));
  console.log('examples/large-folio/README.md: realkernel table updated');
} else console.log(body);
