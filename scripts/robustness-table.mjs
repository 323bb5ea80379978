#!/usr/bin/env node
// Issue 14's hostile inputs, run against the built CLI (`pnpm build` first): one Markdown row
// per input with the exit code, the first line of stderr and, where it matters, what stdout held
// or how long the exit took. `node scripts/robustness-table.mjs` regenerates the table.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'packages/cli/dist/bin.js');
const FIX = path.join(root, 'packages/cli/test/fixtures');
const CFIX = path.join(root, 'packages/check/test/fixtures');
const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-robust-'));
const tmp = (name, text) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};
const yaml = (name, steps, system = '{ hardware: flat }') =>
  tmp(name, `name: ${name.replace(/\..*/, '')}\nsystem: ${system}\nsteps:\n${steps.map((s) => `  - ${s}\n`).join('')}`);

function run(args, { signalAfter, signal = 'SIGINT', cwd = dir, pty = false, timeout = 120_000 } = {}) {
  return new Promise((resolve) => {
    const cmd = pty ? 'script' : process.execPath;
    const argv = pty
      ? ['-qec', [process.execPath, BIN, ...args].map((a) => JSON.stringify(a)).join(' '), '/dev/null']
      : [BIN, ...args];
    const child = spawn(cmd, argv, { cwd, env: { ...process.env, MMSIM_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let t0 = Date.now();
    const killer = setTimeout(() => child.kill('SIGKILL'), timeout);
    if (signalAfter !== undefined)
      setTimeout(() => {
        t0 = Date.now();
        if (pty) child.stdin.write('\x03');
        else child.kill(signal);
      }, signalAfter);
    child.on('close', (code, sig) => {
      clearTimeout(killer);
      resolve({ code: code ?? sig, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

const jsonOk = (s) => {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
};
const firstLine = (s) => {
  const l = s.split('\n').find((x) => x.trim() !== '') ?? '';
  return (l.length > 150 ? `${l.slice(0, 150)}…` : l)
    .replaceAll(dir + '/', '')
    .replaceAll(root + '/', '')
    .replaceAll('|', '\\|');
};

const big = (n) => {
  const parts = [];
  for (let i = 0; i < n; i++)
    parts.push(
      i % 2 === 0
        ? '  - op: touch\n    pid: p\n    region: buf\n    access: write\n'
        : `  - { op: access, pid: p, region: buf, offset: ${(i % 16) * 4096}, access: read }\n`,
    );
  return tmp(
    `large-${n}.yaml`,
    `name: large\nsystem:\n  hardware: flat\nsteps:\n  - { op: spawn, pid: p, cpu: 0 }\n  - { op: mmap, pid: p, name: buf, size: 64KiB, advice: nohugepage }\n${parts.join('')}`,
  );
};
const nested = (depth) => {
  let body = '{ op: drain }';
  for (let i = 0; i < depth; i++) body = `{ op: repeat, times: 1, steps: [${body}] }`;
  return yaml('deep.yaml', [body]);
};
const bomb = () => {
  let t = 'name: bomb\nsystem: { hardware: flat }\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 9; i++)
    t += `a${i}: &a${i} [${Array(10)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  return tmp('bomb.yaml', `${t}steps:\n  - { op: spawn, pid: p }\n`);
};

const rows = [];
async function row(input, args, opts = {}, note = () => '') {
  const r = await run(args, opts);
  rows.push(`| ${input} | ${r.code} | ${firstLine(r.stderr) || '(nothing)'} | ${note(r)} |`);
}
const rss = (r) => {
  const m = /maxrss (\d+)/.exec(r.stderr);
  return m ? `${Math.round(Number(m[1]) / 1024)} MB peak RSS` : '';
};
const stdoutNote = (r) =>
  r.stdout === '' ? 'stdout empty' : jsonOk(r.stdout) ? 'stdout: one JSON document' : 'stdout: not JSON';
const signalNote = (r) =>
  `${r.ms} ms after the signal; ${stdoutNote(r)}${/"interrupted": true/.test(r.stdout) ? ', marked interrupted' : ''}`;

// 1. interruption
await row(
  'Ctrl-C in a terminal (pty), `run long.yaml`',
  ['run', path.join(FIX, 'long.yaml')],
  { signalAfter: 3000, pty: true },
  (r) => `${r.ms} ms after ^C; ${/INTERRUPTED/.test(r.stdout) ? 'table says INTERRUPTED' : 'no INTERRUPTED line'}`,
);
await row(
  'SIGTERM, `run long.yaml --json` in a pipe',
  ['run', path.join(FIX, 'long.yaml'), '--json'],
  { signalAfter: 3000, signal: 'SIGTERM' },
  signalNote,
);
await row(
  'SIGINT inside one step: `pin` of 64 GiB',
  ['run', path.join(FIX, 'long-pin.yaml'), '--json'],
  { signalAfter: 3000 },
  signalNote,
);
await row(
  'SIGINT inside one step: `uffdCopy` of 64 GiB',
  ['run', path.join(FIX, 'long-uffd-copy.yaml'), '--json'],
  { signalAfter: 3000 },
  signalNote,
);
await row(
  'SIGINT, `check --json` with a tap stuck in a loop',
  [
    'check',
    '-k',
    'linux-6.18',
    '--policy',
    path.join(CFIX, 'stuck-tap.ts'),
    '--runs',
    '5',
    '--json',
    '--tap-timeout',
    '600000',
  ],
  { signalAfter: 4000, cwd: root },
  signalNote,
);
// 2. large inputs (peak RSS from a preload that prints it)
const pre = tmp(
  'maxrss.mjs',
  "process.on('exit', () => process.stderr.write(`maxrss ${process.resourceUsage().maxRSS}\\n`));\n",
);
const timed = async (input, file) => {
  const t0 = Date.now();
  const r = await new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', `file://${pre}`, BIN, 'run', file, '--json']);
    let stderr = '';
    let out = 0;
    c.stdout.on('data', (d) => (out += d.length));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => resolve({ code, stderr, out }));
  });
  rows.push(
    `| ${input} | ${r.code} | ${firstLine(r.stderr.replace(/^maxrss.*$/m, '')) || '(nothing)'} | ${rss(r)}, ${((Date.now() - t0) / 1000).toFixed(1)} s |`,
  );
};
await timed('10^6-step YAML scenario (61 MB)', big(1_000_000));
await timed('1.6·10^6-step YAML scenario (97 MB)', big(1_600_000));
// 3. runaway work and limits
await row('`repeat` of 10^12', ['run', path.join(FIX, 'repeat-1e12.yaml')]);
await row('`mmap` + `touch` of 1 PiB', ['run', path.join(FIX, 'mmap-1pib.yaml')]);
await row('`repeat` nested 1000 deep', ['run', nested(1000)]);
await row('YAML alias bomb (10^9 nodes)', ['run', bomb()]);
await row(
  '`check --tap-timeout 200` with a tap stuck in a loop',
  ['check', '-k', 'linux-6.18', '--policy', path.join(CFIX, 'stuck-tap.ts'), '--runs', '5', '--tap-timeout', '200'],
  { cwd: root },
);
// 4. silent wrong results
await row('`access` at an offset beyond its region', [
  'run',
  yaml('beyond.yaml', [
    '{ op: spawn, pid: p }',
    '{ op: mmap, pid: p, name: a, size: 4KiB }',
    '{ op: mmap, pid: p, name: b, size: 4KiB }',
    '{ op: access, pid: p, region: a, offset: 4096, access: read }',
  ]),
]);
await row('a phase named `__proto__`', ['run', path.join(FIX, 'robust/proto-phases.json'), '--json'], {}, (r) =>
  /"__proto__"/.test(r.stdout) ? 'the phase is in the JSON' : 'the phase is missing',
);
await row('`kernelOptions` naming an unknown plugin', ['run', path.join(FIX, 'robust/kernel-options-typo.yaml')]);
await row('`hardwareOptions.cpus: 10000` on arm64', [
  'run',
  yaml('cpus.yaml', ['{ op: spawn, pid: p }'], '{ hardware: arm64, hardwareOptions: { cpus: 10000 } }'),
]);
await row('`--seed -1`', ['run', path.join(FIX, 'eleven-steps.yaml'), '--seed', '-1']);
await row(
  '`--seed 4294967295`',
  ['run', path.join(FIX, 'eleven-steps.yaml'), '--seed', '4294967295', '--json'],
  {},
  (r) => `seed in the JSON: ${/"seed": (\d+)/.exec(r.stdout)?.[1] ?? '-'}`,
);
await row('`uffdCopy` on an unregistered range', [
  'run',
  yaml('uffd.yaml', [
    '{ op: spawn, pid: p }',
    '{ op: mmap, pid: p, name: a, size: 8KiB }',
    '{ op: uffdCopy, pid: p, region: a, offset: 0, size: 4KiB }',
  ]),
]);
await row(
  "a plugin's `console.log` with `--json`",
  ['run', path.join(FIX, 'silent/noisy.yaml'), '--json'],
  {},
  stdoutNote,
);
await row('a default-export Promise that never settles', ['run', path.join(FIX, 'silent/stalled-plugin.yaml')]);
await row(
  'an async `apply` that rejects',
  ['run', path.join(FIX, 'silent/async-apply.yaml'), '--json'],
  {},
  stdoutNote,
);
// 5. check's inputs and outputs
for (const [flag, v] of [
  ['--runs', '0'],
  ['--max-steps', '0'],
  ['--cpus', '0'],
])
  await row(`\`check ${flag} ${v}\``, ['check', '-k', 'linux-6.18', flag, v]);
await row('`check --out` an existing file', ['check', '-k', 'linux-6.18', '--runs', '1', '--out', pre]);
await row('`check --out /dev/null/x`', ['check', '-k', 'linux-6.18', '--runs', '1', '--out', '/dev/null/x']);
await row('`check --out /proc/nope`', ['check', '-k', 'linux-6.18', '--runs', '1', '--out', '/proc/nope'], {
  timeout: 20_000,
});
// 7. smaller points
await row('a JSON file with a UTF-8 BOM', ['run', path.join(FIX, 'robust/bom.json')], {}, (r) =>
  r.code === 0 ? 'runs' : '',
);
await row('`size: .inf`', ['run', path.join(FIX, 'robust/size-inf.yaml')]);
await row('a TypeScript scenario with a syntax error', [
  'run',
  tmp('syntax.ts', "export default {\n  name: 'x',\n  steps: [ { op: 'spawn', pid: 'p' } \n  oops\n};\n"),
]);
await row('a plugin whose `name` getter throws', ['run', path.join(FIX, 'silent/name-throws.yaml')]);

console.log('| input | exit | stderr (first line) | notes |');
console.log('| --- | --- | --- | --- |');
for (const r of rows) console.log(r);
