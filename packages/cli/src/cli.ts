/**
 * The `mmsim` command line: `mmsim run FILE [--kernel P] [--hardware H] [--json] [--seed N]`
 * and `mmsim list`. Exit codes: 0 ok, 1 the run completed but a check failed, 2 bad input
 * (usage, scenario, plugin or step errors), 3 an internal error.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { ScenarioError } from '@mmsim/core';
import { errorText, type LocatedScenarioError } from './errors.js';
import { formatResult } from './format.js';
import { formatListing, listing } from './list.js';
import { createProgress } from './progress.js';
import { runScenarioFile } from './run.js';
import { recordTrace, writeTraceFile, type TraceRecorder } from '@mmsim/trace';
import { checkCommand } from '@mmsim/check';
import type { AnyPlugin } from '@mmsim/core';
import { BUILTIN_HARDWARE, hardwareFactory } from './hardware.js';
import { importModule } from './modules.js';
import { pluginsFromModule } from './plugins.js';

export const EXIT = { ok: 0, checksFailed: 1, badInput: 2, internal: 3 } as const;

export interface CliIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** stderr is a terminal stream (enables the progress bar on it) */
  isTTY?: boolean;
  /** environment (MMSIM_DEBUG=1 prints stacks); default process.env */
  env?: Record<string, string | undefined>;
}

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

function parseSeed(v: string): number {
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(Number(v)))
    throw new InvalidArgumentError('expected an integer');
  return Number(v);
}

interface RunFlags {
  kernel?: string;
  hardware?: string;
  json?: boolean;
  seed?: number;
  traceOut?: string;
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
    .argument('<file>', 'the scenario file')
    .option('-k, --kernel <preset>', "kernel preset, overrides the file's system.kernel (see `mmsim list`)")
    .option('--hardware <name>', 'flat, x86, arm64, a package name or ./path; overrides system.hardware')
    .option('--json', 'print the result as one JSON document on stdout')
    .option('--seed <n>', "seed for random choices (overrides the file's seed)", parseSeed)
    .option('--trace-out <file>', 'write a Perfetto / chrome://tracing timeline (trace-event JSON) to <file>')
    .addHelpText('after', '\nExit codes: 0 ok, 1 a check failed, 2 bad input, 3 internal error.')
    .action(async (file: string, flags: RunFlags) => {
      code = await runCommand(file, flags, io, debug);
    });

  program
    .command('list')
    .description('list kernel presets, hardware models and scenario ops')
    .option('--json', 'as JSON')
    .action(async (flags: { json?: boolean }) => {
      const l = await listing();
      io.stdout.write(flags.json ? JSON.stringify(l, null, 2) + '\n' : formatListing(l));
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
        loadPolicy: async (ref) => {
          const mod = await importModule(ref, process.cwd());
          return () => (pluginsFromModule(mod, {}) ?? []) as AnyPlugin[];
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

async function runCommand(file: string, flags: RunFlags, io: CliIO, debug: boolean): Promise<number> {
  const progress = createProgress(io.stderr as NodeJS.WritableStream, io.isTTY === true);
  let result;
  let trace: TraceRecorder | undefined;
  try {
    result = await runScenarioFile(file, {
      kernel: flags.kernel,
      hardware: flags.hardware,
      seed: flags.seed,
      onProgress: progress.onProgress,
      instrument: flags.traceOut ? (s) => (trace = recordTrace(s)).runOptions : undefined,
    });
    if (flags.traceOut && trace) await writeTraceFile(flags.traceOut, trace);
  } catch (e) {
    progress.stop();
    return reportError(e, io, debug);
  }
  progress.stop();
  io.stdout.write(flags.json ? JSON.stringify(result, null, 2) + '\n' : formatResult(result, { file }));
  return result.checks.failed > 0 ? EXIT.checksFailed : EXIT.ok;
}

function isScenarioError(e: unknown): e is LocatedScenarioError {
  // duck-typed: a ScenarioError may come from another copy of core (e.g. a plugin's)
  return e instanceof Error && e.name === 'ScenarioError' && typeof (e as ScenarioError).where === 'string';
}

/** Print an error on stderr (one line, or a few) and return the exit code. */
export function reportError(e: unknown, io: Pick<CliIO, 'stderr'>, debug = false): number {
  if (isScenarioError(e)) {
    const lines = e.message.split('\n').filter((l) => l.trim() !== '');
    io.stderr.write(`mmsim: ${lines.slice(0, 4).join('\n  ')}\n`);
    const loc = e.location;
    if (loc && !e.where.startsWith('line ')) io.stderr.write(`  at ${e.file}:${loc.line}:${loc.column}\n`);
    if (debug) io.stderr.write(stackOf(e));
    return EXIT.badInput;
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
