/**
 * Fuzzing the scenario loader: malformed JSON/YAML text, schema-violating objects (a valid
 * scenario mutated), bad UTF-8, byte order marks, aliases and deep nesting. Every input either
 * loads or is bad input: one `mmsim: FILE: ...` error (exit 2), no stack, no internal error.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument, stringify } from 'yaml';
import { reportError } from '../src/cli.js';
import { fileLines } from '../src/file-lines.js';
import { parseYamlLines, parseYamlPieces, simpleSteps } from '../src/parse-yaml.js';
import { prepareScenario } from '../src/prepare.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../dist/bin.js');
const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SEED = 20261202;

const VALID = {
  name: 'fuzz',
  system: { hardware: 'flat', kernel: 'linux-6.18', hardwareOptions: { cpus: 2 } },
  seed: 7,
  steps: [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'buf', size: '64KiB', advice: 'nohugepage' },
    { op: 'touch', pid: 'p', region: 'buf', access: 'write', phase: 'touch' },
    { op: 'repeat', times: 2, steps: [{ op: 'access', pid: 'p', region: 'buf', offset: 4096, access: 'read' }] },
    { op: 'madvise', pid: 'p', region: 'buf', advice: 'dontneed' },
  ],
};

/** Values of the wrong kind, huge or odd. */
const odd = fc.oneof(
  fc.constantFrom(null, true, '', 'tuoch', 'repeat', '4XiB', '0x', -1, 0, 1e308, -1e308, 2 ** 53, 0.5, '__proto__'),
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double(),
  fc.constant({}),
  fc.constant([]),
  fc.array(fc.integer(), { maxLength: 3 }),
);

/** A path into VALID (a key of an object, an index of a list). */
function paths(v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (v === null || typeof v !== 'object') return [prefix];
  const out = [prefix];
  for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, Array.isArray(v) ? Number(k) : k]));
  return out;
}
const PATHS = paths(VALID);

type Mutation =
  | { kind: 'set'; path: number; value: unknown }
  | { kind: 'delete'; path: number }
  | { kind: 'unknown-key'; path: number; key: string }
  | { kind: 'nest'; path: number; depth: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), path: fc.nat(PATHS.length - 1), value: odd }),
  fc.record({ kind: fc.constant('delete' as const), path: fc.nat(PATHS.length - 1) }),
  fc.record({
    kind: fc.constant('unknown-key' as const),
    path: fc.nat(PATHS.length - 1),
    key: fc.constantFrom('sise', 'op', 'x', 'steps'),
  }),
  fc.record({
    kind: fc.constant('nest' as const),
    path: fc.nat(PATHS.length - 1),
    depth: fc.integer({ min: 1, max: 700 }),
  }),
);

function mutate(muts: Mutation[]): unknown {
  const doc = structuredClone(VALID) as unknown as Record<string, unknown>;
  for (const m of muts) {
    const p = PATHS[m.path]!;
    if (p.length === 0) continue;
    type Obj = Record<string | number, unknown>;
    let parent: unknown = doc;
    for (const k of p.slice(0, -1)) {
      if (parent === null || typeof parent !== 'object') break;
      parent = (parent as Obj)[k];
    }
    if (parent === null || typeof parent !== 'object') continue;
    const obj = parent as Obj;
    const last = p[p.length - 1]!;
    const cur = obj[last];
    if (m.kind === 'set') obj[last] = m.value;
    else if (m.kind === 'delete') delete obj[last];
    else if (m.kind === 'unknown-key' && cur && typeof cur === 'object') (cur as Obj)[m.key] = 1;
    else if (m.kind === 'nest') {
      let v: unknown = cur;
      for (let i = 0; i < m.depth; i++) v = i % 2 ? [v] : { op: 'repeat', times: 1, steps: [v] };
      obj[last] = v;
    }
  }
  return doc;
}

/** Text edits with YAML/JSON-significant characters. */
const edit = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  del: fc.nat(4),
  ins: fc.stringMatching(/^[{}[\]:,\-&*!|>'"%@`#\t\n ~?.0-9a-z\\]{0,6}$/),
});

function applyEdits(text: string, edits: Array<{ at: number; del: number; ins: string }>): string {
  for (const e of edits) {
    const i = Math.floor(e.at * text.length);
    text = text.slice(0, i) + e.ins + text.slice(i + e.del);
  }
  return text;
}

const ALIAS_BOMB = (levels: number, width: number) => {
  let y = `name: b\nsteps: []\nsystem:\n  kernelOptions:\n    a0: &a0 [${Array(width).fill('x').join(', ')}]\n`;
  for (let i = 1; i < levels; i++)
    y += `    a${i}: &a${i} [${Array(width)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  return y;
};

/** A file's bytes and its extension. */
const input: fc.Arbitrary<{ ext: string; bytes: Uint8Array }> = fc.oneof(
  // a mutated valid scenario, as JSON or YAML
  fc
    .tuple(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.constantFrom('.json', '.yaml', '.yml'))
    .map(([muts, ext]) => {
      const doc = mutate(muts);
      const text = ext === '.json' ? JSON.stringify(doc) : stringify(doc, { aliasDuplicateObjects: false });
      return { ext, bytes: Buffer.from(text) };
    }),
  // valid text with edits (malformed syntax)
  fc.tuple(fc.array(edit, { minLength: 1, maxLength: 4 }), fc.constantFrom('.json', '.yaml')).map(([edits, ext]) => {
    const text = ext === '.json' ? JSON.stringify(VALID, null, 2) : stringify(VALID);
    return { ext, bytes: Buffer.from(applyEdits(text, edits)) };
  }),
  // arbitrary bytes (bad UTF-8), maybe after a byte order mark
  fc
    .tuple(fc.uint8Array({ maxLength: 200 }), fc.boolean(), fc.constantFrom('.json', '.yaml'))
    .map(([b, bom, ext]) => ({ ext, bytes: Buffer.concat([Buffer.from(bom ? [0xef, 0xbb, 0xbf] : []), b]) })),
  // aliases: bombs and cycles
  fc
    .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }))
    .map(([l, w]) => ({ ext: '.yaml', bytes: Buffer.from(ALIAS_BOMB(l, w)) })),
  // deep flow nesting
  fc
    .tuple(
      fc.integer({ min: 1, max: 20_000 }),
      fc.constantFrom('[', '{"a":', '{ a: '),
      fc.constantFrom('.json', '.yaml'),
    )
    .map(([n, open, ext]) => {
      const close = open === '[' ? ']' : '}';
      return { ext, bytes: Buffer.from(`{"name":"x","steps":[],"description":${open.repeat(n)}1${close.repeat(n)}}`) };
    }),
  // plain unicode text
  fc.tuple(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.constantFrom('.json', '.yaml')).map(([s, ext]) => ({
    ext,
    bytes: Buffer.from(s),
  })),
);

let seq = 0;
function writeInput(i: { ext: string; bytes: Uint8Array }): string {
  const abs = path.join(dir, `in-${seq++}${i.ext}`);
  writeFileSync(abs, i.bytes);
  return path.relative(process.cwd(), abs);
}

/** The loader's contract for one file: loads, or one error line naming the file (exit 2). */
async function loadContract(file: string): Promise<'ok' | 'bad'> {
  try {
    await prepareScenario({ file });
    return 'ok';
  } catch (e) {
    let stderr = '';
    const code = reportError(e, { stderr: { write: (s: string) => (stderr += s) } });
    expect(code, stderr).toBe(2);
    expect(stderr.startsWith(`mmsim: ${file}: `), stderr).toBe(true);
    const lines = stderr.split('\n').filter(Boolean);
    expect(lines.length, stderr).toBeLessThanOrEqual(2);
    if (lines[1])
      expect(lines[1]).toMatch(new RegExp(`^  at ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+$`));
    expect(lines[0]!.length, stderr).toBeLessThan(600);
    return 'bad';
  }
}

describe('fuzz: the scenario loader', () => {
  it('every generated file loads or is one bad-input error naming the file', { timeout: 120_000 }, async () => {
    const seen = { ok: 0, bad: 0 };
    await fc.assert(
      fc.asyncProperty(input, async (i) => {
        seen[await loadContract(writeInput(i))]++;
      }),
      { seed: SEED, numRuns: 400 },
    );
    // the generators reach both outcomes
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.bad).toBeGreaterThan(seen.ok);
  });

  it('the built CLI keeps the contract on a sample of them', { timeout: 120_000 }, () => {
    const sample = fc.sample(input, { seed: SEED, numRuns: 8 });
    for (const i of sample) {
      const file = writeInput(i);
      const r = spawnSync(process.execPath, [BIN, 'run', file, '--json'], {
        encoding: 'utf8',
        env: { ...process.env, MMSIM_DEBUG: '' },
      });
      expect([0, 1, 2], r.stderr).toContain(r.status);
      if (r.status === 2) {
        expect(r.stdout).toBe('');
        expect(r.stderr.startsWith(`mmsim: ${file}: `), r.stderr).toBe(true);
        expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack frames
        const lines = r.stderr.split('\n').filter(Boolean);
        expect(lines.length, r.stderr).toBeLessThanOrEqual(2);
        if (lines[1]) expect(lines[1].startsWith(`  at ${file}:`), r.stderr).toBe(true);
      } else expect(JSON.parse(r.stdout).scenario).toBe('fuzz');
    }
  });
});

/** Block-style step lists: plain one-level steps, and lines that need the YAML parser. */
const stepLine = fc.oneof(
  fc.constantFrom(
    '  - op: touch\n    pid: p\n    region: buf\n    access: write\n',
    '  - { op: access, pid: p, region: buf, offset: 0x1000, access: read }\n',
    '  - op: phase\n    name: ~\n',
    '  - op: x\n    op: y\n',
    '  - op: touch # comment\n',
    '  - { op: touch, pid: "p" }\n',
    '  - op: repeat\n    times: 2\n    steps:\n      - { op: drain }\n',
    '  - a: true\n    b: -1.5e3\n    c: .inf\n    d: 010\n',
    '  - &x { op: drain }\n  - *x\n',
    '  -  op: drain\n     cpu: 1\n',
    '  - op: drain\n   cpu: 1\n',
    '\n  # a comment\n',
    '  - op: |\n      text\n',
    '  - { op: drain, }\n',
    '  - __proto__: 1\n',
    '  - op: "unterminated\n',
  ),
  fc.stringMatching(/^ {2}- [a-z]{1,3}: [a-z0-9.~-]{1,4}\n$/),
);

describe('fuzz: large YAML files parsed in pieces', () => {
  it('give exactly what the whole parse gives, or defer to it', () => {
    fc.assert(
      fc.property(
        fc.array(stepLine, { minLength: 1, maxLength: 30 }),
        fc.constantFrom('', 'seed: 3\n', 'name: again\n', 'x: [1, 2]\n', '  bad: indent\n'),
        (lines, tail) => {
          const text = `name: p\nsystem:\n  hardware: flat\nsteps:\n${lines.join('')}${tail}`;
          const whole = parseDocument(text);
          const pieces = parseYamlPieces(text);
          if (whole.errors.length > 0) expect(pieces).toBeUndefined();
          else if (pieces) expect(pieces.value).toEqual(whole.toJS());
          const simple = simpleSteps(lines.join(''));
          if (simple) expect(simple).toEqual(parseDocument(lines.join('')).toJS());
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe('fuzz: a large file read a line at a time', () => {
  it('gives the lines of the whole text (any chunk size, multibyte characters, a BOM, bad UTF-8)', () => {
    const piece = fc.oneof(
      fc.constantFrom('\n', '\r\n', 'é', '€', '😀', '\ufeff', '${X}', '  - op: drain\n'),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 40 }),
        fc.boolean(),
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 3 }), { nil: undefined }),
        fc.integer({ min: 1, max: 9 }),
        (parts, bom, bad, chunk) => {
          let bytes = Buffer.from((bom ? '\ufeff' : '') + parts.join(''), 'utf8');
          if (bad) bytes = Buffer.concat([bytes, Buffer.from(bad), Buffer.from('\nx')]);
          const file = path.join(dir, 'lines.yaml');
          writeFileSync(file, bytes);
          let whole = bytes.toString('utf8');
          if (whole.charCodeAt(0) === 0xfeff) whole = whole.slice(1);
          const hash = createHash('sha256');
          const fd = openSync(file, 'r');
          let lines: string[];
          try {
            lines = [...fileLines(fd, hash, chunk)];
          } finally {
            closeSync(fd);
          }
          expect(lines.join('')).toBe(whole);
          for (const l of lines.slice(0, -1)) expect(l.endsWith('\n') && l.indexOf('\n') === l.length - 1).toBe(true);
          expect(hash.digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('parses a large YAML file as the whole parse does, or defers to it', () => {
    fc.assert(
      fc.property(
        fc.array(stepLine, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 64 }),
        (lines, chunk) => {
          const text = `name: p\nsystem:\n  hardware: flat\nsteps:\n${lines.join('')}seed: 3\n`;
          const file = path.join(dir, 'pieces.yaml');
          writeFileSync(file, text);
          const fd = openSync(file, 'r');
          try {
            expect(parseYamlLines(fileLines(fd, undefined, chunk))).toEqual(parseYamlPieces(text));
          } finally {
            closeSync(fd);
          }
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});
