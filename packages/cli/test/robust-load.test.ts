import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, mmsim } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file in the temp dir, named as a user would type it. */
function write(name: string, text: string): string {
  const abs = path.join(dir, name);
  writeFileSync(abs, text);
  return path.relative(process.cwd(), abs);
}

/** `mmsim run FILE --json` of bad input: exit 2, nothing on stdout, the error line(s). */
async function bad(file: string): Promise<string> {
  const r = await mmsim('run', file, '--json');
  expect(r.stdout).toBe('');
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).not.toContain('internal error');
  return r.stderr;
}

const TOUCH = { op: 'touch', pid: 'p', region: 'buf', access: 'write' };
const HEAD = [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'mmap', pid: 'p', name: 'buf', size: '16KiB' },
];

function nested(depth: number): unknown {
  let s: unknown = TOUCH;
  for (let i = 0; i < depth; i++) s = { op: 'repeat', times: 1, steps: [s] };
  return s;
}

describe('robustness: loading a file', () => {
  it('a JSON scenario with a UTF-8 byte order mark runs like one without', async () => {
    const a = await mmsim('run', fixture('robust/bom.json'), '--json');
    const b = await mmsim('run', fixture('touch16.json'), '--json');
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout).phases).toEqual(JSON.parse(b.stdout).phases);
  });

  it('repeat steps nested 200 deep run; 201 deep is bad input naming the step', async () => {
    const ok = write('repeat200.json', JSON.stringify({ name: 'r', steps: [...HEAD, nested(200)] }));
    const r = await mmsim('run', ok, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).total.counters.pgfault).toBe(4);
    const deep = write('repeat1000.json', JSON.stringify({ name: 'r', steps: [...HEAD, nested(1000)] }));
    expect(await bad(deep)).toBe(
      `mmsim: ${deep}: steps[2].steps[0].steps[0].….steps[0].steps[0].steps[0]: repeat nested more than 200 deep (the loader's limit)\n`,
    );
  });

  it('other values nested past 512 levels are bad input naming the field', async () => {
    const f = write(
      'deep-options.yaml',
      `name: d\nsteps: []\nsystem:\n  kernelOptions:\n    x: ${'['.repeat(600)}${']'.repeat(600)}\n`,
    );
    expect(await bad(f)).toBe(
      `mmsim: ${f}: scenario field "system.kernelOptions.x.….0.0.0": nested more than 512 levels deep (the loader's limit)\n`,
    );
  });

  it('a list nested 100000 deep is a parse error, in YAML and in JSON', async () => {
    const y = write('flow.yaml', `name: x\nsteps: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    expect(await bad(y)).toMatch(
      new RegExp(`^mmsim: ${y}: line 2, column \\d+: invalid YAML: nested too deeply to parse\\n$`),
    );
    const j = write('flow.json', `{"name":"x","steps":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect(await bad(j)).toBe(
      `mmsim: ${j}: steps[0] field "0.0.0.….0.0.0": nested more than 512 levels deep (the loader's limit)\n`,
    );
  });

  it('a YAML alias bomb is bad input naming the field', async () => {
    let y = 'name: bomb\nsteps: []\nsystem:\n  kernelOptions:\n    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++)
      y += `    a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    const f = write('bomb.yaml', y);
    expect(await bad(f)).toBe(
      `mmsim: ${f}: scenario field "system.kernelOptions.a5.7": YAML aliases expand to more than 1000000 nodes (the loader's limit; an "alias bomb"?)\n`,
    );
  });

  it('a YAML alias inside the node it names is bad input', async () => {
    const f = write('self.yaml', 'name: x\nsteps: &s [ { op: repeat, times: 1, steps: *s } ]\n');
    expect(await bad(f)).toBe(`mmsim: ${f}: steps[0] field "steps": YAML alias *s refers to a node that contains it\n`);
  });

  it('YAML aliases within the limit load as their values', async () => {
    const f = write(
      'alias.yaml',
      'name: a\nsteps:\n  - &sp { op: spawn, pid: p, cpu: 0 }\n  - { op: mmap, pid: p, name: buf, size: 16KiB }\n  - &t { op: touch, pid: p, region: buf, access: write }\n  - *t\n',
    );
    const r = await mmsim('run', f, '--json');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).total.steps).toBe(4);
  });

  it('a huge value quoted in a message is cut at 200 characters', async () => {
    const f = write('huge-op.json', JSON.stringify({ name: 'h', steps: [{ op: Array(500).fill('touch') }] }));
    const err = await bad(f);
    const detail = `unknown op ${JSON.stringify(Array(500).fill('touch'))}`.slice(0, 200);
    expect(err).toBe(`mmsim: ${f}: steps[0] field "op": ${detail}…\n  at ${f}:1:28\n`);
  });

  it('a TypeScript scenario with a syntax error gives its line and column', async () => {
    const f = write('syntax.ts', 'export default {\n  name: "x"\n  steps: [],\n};\n');
    expect(await bad(f)).toBe(
      `mmsim: ${f}: line 3, column 3: cannot load the module: ParseError: Unexpected token, expected ","\n`,
    );
  });

  it('an error in step 20000 of a large file is located by parsing that step only', async () => {
    const steps: Array<Record<string, unknown>> = [...HEAD];
    for (let i = 0; i < 20_000; i++) steps.push({ ...TOUCH });
    steps.push({ ...TOUCH, access: 'exec' });
    const lines = ['name: big', 'steps:'];
    for (const s of steps)
      lines.push(
        `  - { ${Object.entries(s)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')} }`,
      );
    const f = write('big-bad.yaml', `${lines.join('\n')}\n`);
    const err = await bad(f);
    expect(err).toContain(`mmsim: ${f}: steps[20002] field "access": `);
    expect(err).toContain(`  at ${f}:20005:`);
  });
});
