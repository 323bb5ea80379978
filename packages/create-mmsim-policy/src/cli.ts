/**
 * `create-mmsim-policy NAME [--hook HOOK]... [--dir DIR]` (`npm create mmsim-policy NAME`):
 * scaffold a policy package. Exit codes: 0 written, 2 bad input (usage, a name npm refuses, an
 * unknown hook, a target that exists and is not empty), 3 an internal error.
 */
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { knownHooks, selectHooks, DEFAULT_HOOK } from './hooks.js';
import { parsePackageName } from './name.js';
import { scaffold, targetProblem } from './scaffold.js';
import { ownVersion, pinnedVersions } from './versions.js';

export const EXIT = { ok: 0, badInput: 2, internal: 3 } as const;

export interface CreateIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** directory `--dir` and the default target are resolved from (default: process.cwd()) */
  cwd?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Run the generator with `argv` (without node and the script). Resolves to the exit code. */
export async function createPolicy(argv: string[], io: CreateIO): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  const program = new Command();
  let opts: { hook?: string[]; dir?: string } = {};
  let nameArg: string | undefined;
  program
    .name('create-mmsim-policy')
    .description('Scaffold a publishable mmsim policy package (npm create mmsim-policy NAME).')
    .version(ownVersion(), '-V, --version')
    .argument('<name>', 'the npm package name (scoped allowed: @scope/name)')
    .option(
      '--hook <hook>',
      `a hook to tap, as \`mmsim list hooks\` names it (repeatable; default ${DEFAULT_HOOK})`,
      collect,
    )
    .option('--dir <dir>', 'where to write it (default: ./NAME without its scope); must not exist or be empty')
    .addHelpText('after', '\nExit codes: 0 written, 2 bad input, 3 internal error.')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) =>
        write(s.startsWith('error: ') ? `create-mmsim-policy: ${s.slice('error: '.length)}` : s),
    })
    .action((name: string, o: typeof opts) => {
      nameArg = name;
      opts = o;
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    throw e;
  }
  const bad = (msg: string) => {
    io.stderr.write(`create-mmsim-policy: ${msg}\n`);
    return EXIT.badInput;
  };
  const name = parsePackageName(nameArg!);
  if ('error' in name) return bad(`invalid package name: ${name.error}`);
  const sel = selectHooks(opts.hook ?? []);
  if ('unknown' in sel)
    return bad(
      `unknown hook${sel.unknown.length > 1 ? 's' : ''} ${sel.unknown.map((h) => `"${h}"`).join(', ')} (known: ${knownHooks()
        .map((h) => h.name)
        .join(', ')})`,
    );
  const dir = path.resolve(cwd, opts.dir ?? name.base);
  const shown = path.relative(cwd, dir) || '.';
  const problem = targetProblem(dir);
  if (problem) return bad(`--dir ${shown}: ${problem.replace(dir, shown)}`);
  try {
    const files = scaffold({ name, hooks: sel.hooks, dir, versions: pinnedVersions() });
    io.stdout.write(
      `created ${name.full} in ${shown} (${files.length} files), tapping ${sel.hooks.map((h) => h.name).join(', ')}\n\n` +
        `  cd ${shown}\n  npm install\n  npm run build && npm test && npm run check\n`,
    );
    return EXIT.ok;
  } catch (e) {
    io.stderr.write(`create-mmsim-policy: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.internal;
  }
}
