/**
 * docs/writing-a-policy.md, run as written: every command of the guide, in order, in a temp
 * dir, with the guide's files written where it says. The conventions the guide follows:
 *
 * - A ```sh block holds commands, one per line, run with `sh -c LINE` in the current directory.
 *   `cd DIR` (a line of its own) changes the current directory for the lines and files after it.
 *   A trailing `# exits N` is the documented exit code (default 0); sh ignores it as a comment.
 * - A block with a `title="PATH"` (```ts title="src/index.ts") is a file: it is written to
 *   PATH, relative to the current directory, when the guide reaches it.
 * - A ```text output block shows lines of what the commands of the sh block just before it print
 *   (stdout and stderr): each line must equal a line of that output, `...` standing for any
 *   text (timings, paths, counts that vary).
 * - Other blocks (a bare ```yaml example) are not run.
 *
 * Substitutions, the only places a command is not run exactly as written:
 *
 * | the guide says | the test runs |
 * | --- | --- |
 * | `npm create mmsim-policy ARGS -- OPTS` | `node packages/create-mmsim-policy/dist/bin.js ARGS OPTS` (the workspace's built generator; npm would drop the `--`) |
 * | `npm install` | the same, with INSTALL_FLAGS, after pointing the package's @mmsim devDependencies and overrides at `pnpm pack` tarballs of the workspace (useTarballs; a user gets them from the registry) |
 *
 * Each command is a test of its own; EXPECT gives a key line of each command's output (a
 * regular expression one line must match) and must list the guide's commands in order, so a
 * command added to the guide fails here until its output is stated. Needs `pnpm build` first
 * and npm's registry for vitest, typescript and the other tools.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, INSTALL_FLAGS, packTarballs, ROOT, run, useTarballs } from './workspace.js';

const GUIDE = path.join(ROOT, 'docs', 'writing-a-policy.md');

type Piece =
  | { kind: 'cmd'; line: string; code: number; block: number }
  | { kind: 'file'; path: string; text: string }
  | { kind: 'output'; lines: string[]; block: number };

/** The guide's runnable pieces, in order. */
function parseGuide(md: string): Piece[] {
  const out: Piece[] = [];
  let block = -1;
  for (const m of md.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const info = m[1]!.trim();
    const body = m[2]!;
    const title = /\btitle="([^"]+)"/.exec(info);
    if (title) out.push({ kind: 'file', path: title[1]!, text: body });
    else if (info === 'sh') {
      block++;
      for (const line of body.split('\n').filter((l) => l.trim() !== '')) {
        const exits = / # exits (\d+)$/.exec(line);
        out.push({ kind: 'cmd', line, code: exits ? Number(exits[1]) : 0, block });
      }
    } else if (info === 'text output')
      out.push({ kind: 'output', lines: body.split('\n').filter((l) => l.trim() !== ''), block });
  }
  return out;
}

/** A key line of each command's output, in the guide's order. */
const EXPECT: ReadonlyArray<readonly [string, RegExp]> = [
  [
    'npm create mmsim-policy @my-lab/eager-drain -- --hook fault.beforeWpReuse',
    /^created @my-lab\/eager-drain in eager-drain \(10 files\), tapping fault\.beforeWpReuse$/,
  ],
  ['cd eager-drain', /^$/],
  ['npm install', /^added \d+ packages/],
  ['npm run build', /^> tsc -p tsconfig\.build\.json$/],
  ['npm test', /Tests {2}2 passed \(2\)/],
  ['npm run build', /^> tsc -p tsconfig\.build\.json$/],
  ['npx mmsim run scenarios/swap-write.yaml', /^ {2}cow_copy +- +- +- +- +10 +10$/],
  ['npx mmsim run scenarios/swap-write.yaml --policy ./dist/index.js', /^ {2}eager_drain +- +- +- +- +10 +10$/],
  ['npx mmsim run scenarios/swap-write.yaml --explain', /^ {2}write +fault\.wpReuse copy 10$/],
  [
    'npx mmsim compare scenarios/swap-write.yaml --policy ./dist/index.js --counters write:cow_copy,write:pgreuse,cycles',
    /^ {2}linux-5\.9\/x86\/\+dist +0 +0\.00x +-10$/,
  ],
  ['rm test/scenario.yaml', /^$/],
  ['npm test', /Tests {2}2 passed \(2\)/],
  ['npm run check', /^linux-6\.18 on strict-tlb \+ index\.js: 200 runs, \d+ steps, 0 violation\(s\)/],
  [
    'npx mmsim check --policy ./test/always-reuse.ts --kernel linux-6.18 --out findings # exits 1',
    /^ {4}blame: always-reuse \(its tap ran in the step that broke it\)$/,
  ],
  [
    'npx mmsim run findings/finding-*.json # exits 1',
    /^mmsim: check failed: findings\/finding-[0-9a-f]+\.json: steps\[4\]: invariant violated/,
  ],
  ['npm run version-packages', /All files have been updated/],
  ['npm publish --dry-run', /^\+ @my-lab\/eager-drain@0\.2\.0$/],
];

/** What the test runs for a line of the guide (the substitution table above). */
function substitute(line: string): string[] {
  const create = /^npm create mmsim-policy (.*)$/.exec(line);
  if (create) {
    const words = create[1]!.split(' ');
    const sep = words.indexOf('--');
    if (sep >= 0) words.splice(sep, 1);
    return ['node', BIN, ...words];
  }
  if (line === 'npm install') return ['npm', 'install', ...INSTALL_FLAGS];
  return ['sh', '-c', line];
}

/** An output block's line as a whole-line pattern: `...` is any text. */
function linePattern(shown: string): RegExp {
  const parts = shown.split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}

const lines = (s: string) => s.split('\n').map((l) => l.trimEnd());

const pieces = parseGuide(readFileSync(GUIDE, 'utf8'));
const commands = pieces.filter((p) => p.kind === 'cmd');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'create-mmsim-policy-guide-'));
let tarballs: Record<string, string> = {};
let cwd = tmp;
/** the output of each sh block so far, by block index */
const blockOutput: string[] = [];
let failed: string | null = null;

beforeAll(async () => {
  tarballs = await packTarballs(path.join(tmp, 'tgz'));
}, 120_000);

// ~300 installed packages: removing them can take a while on a busy machine
afterAll(() => rm(tmp, { recursive: true, force: true }), 120_000);

describe('docs/writing-a-policy.md, run as written', () => {
  it('states a key output line for each of the guide’s commands, in order', () => {
    expect(commands.map((c) => c.line)).toEqual(EXPECT.map(([cmd]) => cmd));
    expect(pieces.filter((p) => p.kind === 'file').map((p) => p.path)).toEqual([
      'src/index.ts',
      'scenarios/swap-write.yaml',
      'test/policy.test.ts',
      'test/always-reuse.ts',
      '.changeset/eager-drain.md',
    ]);
  });

  let n = 0;
  for (const p of pieces) {
    const i = n;
    if (p.kind === 'file') {
      it(`writes ${p.path}`, () => {
        expect(failed).toBeNull();
        const to = path.join(cwd, p.path);
        mkdirSync(path.dirname(to), { recursive: true });
        writeFileSync(to, p.text);
      });
    } else if (p.kind === 'output') {
      it(`prints what the guide shows after sh block ${p.block + 1}`, () => {
        const got = lines(blockOutput[p.block] ?? '');
        const missing = p.lines.filter((shown) => !got.some((l) => linePattern(shown).test(l)));
        expect(missing, blockOutput[p.block]).toEqual([]);
      });
    } else {
      n++;
      it(`$ ${p.line}`, async () => {
        expect(failed).toBeNull();
        const key = EXPECT[i]![1];
        const cd = /^cd (\S+)$/.exec(p.line);
        let out: string;
        let code: number | null;
        if (cd) {
          cwd = path.resolve(cwd, cd[1]!);
          [out, code] = ['', 0];
        } else {
          const [cmd, ...args] = substitute(p.line);
          if (p.line === 'npm install') useTarballs(cwd, tarballs);
          ({ out, code } = await run(cmd!, args, cwd));
        }
        blockOutput[p.block] = (blockOutput[p.block] ?? '') + out;
        try {
          expect(code, out).toBe(p.code);
          expect(
            lines(out).some((l) => key.test(l)),
            `no line matches ${key}:\n${out}`,
          ).toBe(true);
        } catch (e) {
          failed = p.line;
          throw e;
        }
      }, 240_000);
    }
  }
});
