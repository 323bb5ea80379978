/**
 * The `mmsim` command line: `mmsim run FILE [--kernel P] [--hardware H] [--policy S]... [--set P=V]...
 * [--var N=V]... [--json] [--seed N]`, `mmsim compare` (compare/), `mmsim list`, `mmsim check`, `mmsim record` (record/) and `mmsim import`.
 * Exit codes: 0 ok, 1 the run completed but a check failed, 2 bad input (usage, scenario, plugin
 * or step errors), 3 an internal error, 130 interrupted.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { ScenarioError } from '@mmsim/core';
import { errorText, type LocatedScenarioError } from './errors.js';
import { LIST_SECTIONS } from './list-sections.js';
import { isFlagError } from './flag-error.js';
import type { RunFlags } from './run-command.js';
import type { CompareFlags } from './compare/command.js';
import type { CheckChannel } from '@mmsim/check';
import type { AnyPlugin } from '@mmsim/core';

// Each command's module loads when that command runs (start-up time: `mmsim run` does not load
// the checker, fast-check, the compare pool or the HTML report).

export const EXIT = { ok: 0, checksFailed: 1, badInput: 2, internal: 3, interrupted: 130 } as const;

export interface CliIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** stderr is a terminal stream (enables the progress bar on it) */
  isTTY?: boolean;
  /** environment (MMSIM_DEBUG=1 prints stacks); default process.env */
  env?: Record<string, string | undefined>;
  /** `mmsim check` in a worker: the port to its supervisor (@mmsim/check watch/channel.ts) */
  channel?: CheckChannel;
}

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

function parseSeed(v: string): number {
  // the PRNG takes the seed modulo 2^32: -1 and 4294967295 would run the same, reported apart
  if (!/^\d+$/.test(v.trim()) || Number(v) > 0xffffffff)
    throw new InvalidArgumentError('expected an integer from 0 to 4294967295');
  return Number(v);
}

/** a repeatable option's values */
const collect = (v: string, prev: string[] = []) => [...prev, v];

function parseJobs(v: string): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw new InvalidArgumentError('expected a positive integer');
  return Number(v);
}

/** `--max-steps N`: a positive integer, digits or e.g. 1e9 */
function parseMaxSteps(v: string): number {
  const t = v.trim();
  const n = Number(t);
  if (!/^\d+(?:e\d+)?$/i.test(t) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a positive integer (e.g. 1000000 or 1e9)');
  return n;
}

/** Run the CLI with `argv` (without node and the script). Resolves to the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const debug = !!(io.env ?? process.env).MMSIM_DEBUG && (io.env ?? process.env).MMSIM_DEBUG !== '0';
  let code: number = EXIT.ok;
  const program = new Command();
  program
    .name('mmsim')
    .description('Simulate Linux memory-management policies: run scenario files, print counters, cycles and meminfo.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(s.startsWith('error: ') ? `mmsim: ${s.slice('error: '.length)}` : s),
    })
    .showSuggestionAfterError(true)
    .helpCommand(true);

  program
    .command('run')
    .description('run a scenario file (.json, .yaml/.yml, .ts/.js)')
    .argument('[file]', 'the scenario file')
    .option('-k, --kernel <preset>', "kernel preset, overrides the file's system.kernel (see `mmsim list`)")
    .option('--hardware <name>', 'flat, x86, arm64, a package name or ./path; overrides system.hardware')
    .option('--policy <spec>', 'add a policy: NAME or \'NAME={"opt":1}\' (repeatable)', collect)
    .option('--set <path=value>', 'override one field of the file by dot path (repeatable)', collect)
    .option('--var <name=value>', 'fill ${NAME} in the file (repeatable)', collect)
    .option('--config <file.json>', 're-run the "config" of a `mmsim run --json` document')
    .option('--json', 'print the result as one JSON document on stdout')
    .option('--seed <n>', "seed for random choices (overrides the file's seed)", parseSeed)
    .option('--trace-out <file>', 'write a Perfetto / chrome://tracing timeline (trace-event JSON) to <file>')
    .option('--explain', 'record why each write fault copied or reused: the references behind every decision')
    .option(
      '--max-steps <n>',
      'step budget: refuse a scenario of more leaf steps (overrides limits.maxSteps; default 1e9)',
      parseMaxSteps,
    )
    .addHelpText('after', '\nExit codes: 0 ok, 1 a check failed, 2 bad input, 3 internal error.')
    .action(async (file: string | undefined, flags: RunFlags) => {
      const { runCommand } = await import('./run-command.js');
      code = await runCommand(file, flags, io, (e) => reportError(e, io, debug));
    });

  program
    .command('replay')
    .description('replay a program trace (.mmtrace, .mmtrace.jsonl, .jsonl.gz: docs/trace-format.md) as a scenario')
    .argument('<trace>', 'the trace file')
    .option('-k, --kernel <preset>', 'kernel preset (see `mmsim list`)')
    .option('--hardware <name>', 'flat, x86, arm64, a package name or ./path')
    .option('--policy <spec>', 'add a policy: NAME or \'NAME={"opt":1}\' (repeatable)', collect)
    .option('--set <path=value>', 'override one field of the scenario by dot path (repeatable)', collect)
    .option('--json', 'print the result as one JSON document on stdout')
    .option('--seed <n>', 'seed for random choices', parseSeed)
    .option('--trace-out <file>', 'write a Perfetto / chrome://tracing timeline (trace-event JSON) to <file>')
    .option('--explain', 'record why each write fault copied or reused: the references behind every decision')
    .option('--max-steps <n>', 'step budget (default 1e9)', parseMaxSteps)
    .option('--from <format>', 'replay a foreign trace through its importer: champsim, lackey or strace')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 a check failed, 2 bad input (a malformed trace too), 3 internal error.',
    )
    .action(async (trace: string, flags: RunFlags) => {
      const { replayCommand } = await import('./replay-command.js');
      code = await replayCommand(trace, flags, io, (e) => reportError(e, io, debug));
    });

  program
    .command('import')
    .description(
      'convert a ChampSim trace, a valgrind lackey log or an strace log into an mmsim trace (docs/trace-format.md)',
    )
    .argument('<input>', 'the trace or log file (ChampSim: plain, .gz or .xz)')
    .requiredOption('--from <format>', 'the input format: champsim, lackey or strace')
    .option('-o, --output <file>', 'the mmsim trace (.mmtrace binary, .jsonl, .jsonl.gz; default INPUT.mmtrace)')
    .addHelpText(
      'after',
      '\nExit codes: 0 imported, 2 bad input (unknown format, a malformed input), 3 internal error.',
    )
    .action(async (input: string, flags: { from?: string; output?: string }) => {
      try {
        const { importCommand } = await import('./import-command.js');
        code = await importCommand(input, flags, io);
      } catch (e) {
        code = reportError(e, io, debug);
      }
    });

  program
    .command('compare')
    .description('run the cross product of kernels × hardware × policies × --set × --var × seeds, compare counters')
    .argument('<file>', 'the scenario file')
    .option('-k, --kernel <preset>', 'a kernel preset (repeatable)', collect)
    .option('--hardware <name>', 'a hardware model (repeatable)', collect)
    .option('--policy <spec>', 'one more configuration with this policy added (repeatable)', collect)
    .option('--set <path=value>', 'override one field (repeatable; values of one PATH are alternatives)', collect)
    .option('--var <name=v1,v2,...>', 'fill ${NAME} with each value in turn (repeatable)', collect)
    .option('--seeds <n>', 'run seeds 1..N per configuration', parseJobs)
    .option('--baseline <label>', 'the configuration ratios are against (default: the first)')
    .option(
      '--max-steps <n>',
      'step budget of every run, checked for every configuration first (overrides limits.maxSteps; default 1e9)',
      parseMaxSteps,
    )
    .option(
      '-j, --jobs <n>',
      'parallel runs on worker threads (default: the number of cores; 1 = in-process)',
      parseJobs,
    )
    .option('--counters <a,b,...>', 'counters to show (total, or PHASE:counter; `cycles` too)')
    .option('--json', 'print { baseline, configs } as one JSON document on stdout')
    .option('--export-csv <file>', 'write the table as CSV')
    .option('--export-markdown <file>', 'write the table as Markdown')
    .option('--report <file.html>', 'write a self-contained HTML report with plots (@mmsim/report)')
    .option(
      '--explain',
      'each run records its decisions (`decisions` in --json; --counters fault.wpReuse.copy.lru_batch)',
    )
    .option(
      '--queue <url>',
      'run on `mmsim worker`s through Redis: redis://[user:password@]host:port[/db], rediss:// (TLS)',
    )
    .addHelpText('after', '\nExit codes: 0 ok, 1 a check failed, 2 bad input, 3 internal error, 130 interrupted.')
    .action(async (file: string, flags: CompareFlags) => {
      const { compareCommand } = await import('./compare/command.js');
      code = await compareCommand(file, flags, io, (e) => reportError(e, io, debug));
    });

  program
    .command('worker')
    .description('serve the compare and check jobs of a Redis queue (BullMQ) until SIGINT/SIGTERM')
    .requiredOption('--queue <url>', 'redis://[user:password@]host:port[/db], rediss:// (TLS)')
    .option('-j, --jobs <n>', 'jobs at a time (default 1)', parseJobs)
    .addHelpText(
      'after',
      '\nA worker runs the plugin code its queue gives it: point it only at a queue you trust.\nExit codes: 0 stopped by SIGTERM, 2 bad URL or credentials, 130 stopped by SIGINT.',
    )
    .action(async (flags: { queue: string; jobs?: number }) => {
      try {
        const { workerCommand } = await import('./queue/worker.js');
        code = await workerCommand(flags, io, VERSION);
      } catch (e) {
        code = reportError(e, io, debug);
      }
    });

  program
    .command('record')
    .description('run CMD on this machine under valgrind and write an mmsim trace (JSON Lines; .gz: gzipped)')
    .option('-o, --output <file>', 'the trace file (default trace.mmtrace.jsonl)')
    .option(
      '--fetches',
      "keep each page's first instruction fetch (since a mapping change) as a read: the text faults and is resident in a replay",
    )
    .argument('<cmd...>', 'the command and its arguments, after --')
    .addHelpText(
      'after',
      "\nExit codes: 0 recorded (the program's status is reported), 2 bad input or no valgrind, 130 interrupted.",
    )
    .action(async (cmd: string[], flags: { output?: string; fetches?: boolean }) => {
      try {
        const { recordCommand } = await import('./record/command.js');
        code = await recordCommand(cmd, flags, io);
      } catch (e) {
        code = reportError(e, io, debug);
      }
    });

  program
    .command('list')
    .description(
      `list kernel presets, hardware, installed policy packages, hooks, counters, cost profiles and ops (SECTION: ${LIST_SECTIONS.join(' | ')})`,
    )
    .argument('[section]')
    .option('--json', 'as JSON')
    .action(async (sectionArg: string | undefined, flags: { json?: boolean }) => {
      try {
        const { formatListing, listing, listSections } = await import('./list.js');
        const l = await listing(listSections(sectionArg));
        io.stdout.write(flags.json ? JSON.stringify(l, null, 2) + '\n' : formatListing(l));
      } catch (e) {
        code = reportError(e, io, debug);
      }
    });

  program
    .command('check')
    .description(
      'fuzz kernel presets × hardware × policies against the invariants and the reference model (mmsim check --help)',
    )
    .allowUnknownOption(true)
    .helpOption(false)
    .argument('[args...]')
    .action(async (args: string[]) => {
      // `--queue URL`: one job per kernel on `mmsim worker`s (queue/check.ts)
      const { queueArg } = await import('./queue/check.js');
      const q = queueArg(args);
      if (q.url !== undefined) {
        const { queueCheck } = await import('./queue/check.js');
        code = await queueCheck(q.url, q.rest, io);
        return;
      }
      const { checkCommand } = await import('@mmsim/check');
      const { BUILTIN_HARDWARE, hardwareFactory } = await import('./hardware.js');
      const { importModule } = await import('./modules.js');
      const { pluginsFromModule } = await import('./plugins.js');
      code = await checkCommand(args, {
        ...io,
        loadHardware: async (name) => {
          const mod = Object.hasOwn(BUILTIN_HARDWARE, name)
            ? await BUILTIN_HARDWARE[name]!.load()
            : await importModule(name, process.cwd());
          const f = hardwareFactory(mod);
          if (!f) throw new Error(`hardware "${name}" exports no createHardware`);
          return (o) => f({ cpus: 2, ...o });
        },
        loadPolicy: async (ref, options) => {
          const mod = await importModule(ref, process.cwd());
          return () => {
            const plugins = pluginsFromModule(mod, options);
            if (!plugins) throw new Error(`${ref} has no default export factory, "plugin" or "plugins" export`);
            return plugins as AnyPlugin[];
          };
        },
      });
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    return reportError(e, io, debug);
  }
  return code;
}

function isScenarioError(e: unknown): e is LocatedScenarioError {
  // duck-typed: a ScenarioError may come from another copy of core (e.g. a plugin's)
  return e instanceof Error && e.name === 'ScenarioError' && typeof (e as ScenarioError).where === 'string';
}

/** Print an error on stderr (one line, or a few) and return the exit code. */
export function reportError(e: unknown, io: Pick<CliIO, 'stderr'>, debug = false): number {
  if (isFlagError(e)) {
    io.stderr.write(`mmsim: ${e.message}\n`);
    return EXIT.badInput;
  }
  if (isScenarioError(e)) {
    const lines = e.message.split('\n').filter((l) => l.trim() !== '');
    io.stderr.write(`mmsim: ${lines.slice(0, 4).join('\n  ')}\n`);
    const loc = e.location;
    if (loc && !e.where.startsWith('line ')) io.stderr.write(`  at ${e.file}:${loc.line}:${loc.column}\n`);
    if (debug) io.stderr.write(stackOf(e));
    // out of memory with nothing to reclaim: the scenario ran and failed (exit 1)
    return e.outOfMemory === true ? EXIT.checksFailed : EXIT.badInput;
  }
  io.stderr.write(`mmsim: internal error: ${errorText(e)}${debug ? '' : ' (set MMSIM_DEBUG=1 for the stack)'}\n`);
  if (debug) io.stderr.write(stackOf(e));
  return EXIT.internal;
}

function stackOf(e: unknown): string {
  let s = '';
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++)
    s += `${depth ? 'caused by: ' : ''}${c.stack ?? c.message}\n`;
  return s || `${String(e)}\n`;
}
