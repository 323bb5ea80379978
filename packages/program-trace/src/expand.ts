/**
 * The scenario step `replay {trace, pid?}` (docs/scenario-format.md "replay"): each one is
 * replaced, before the run, by a `repeat {times: 1}` of the trace's translated steps, so step
 * paths stay those of the file (`steps[3]` is still the replay; its steps are
 * `steps[3].steps[i]`). Core does not read traces: the scenario loader (the CLI) calls this.
 */
import path from 'node:path';
import { type FileSpec, parseSize, ScenarioError, type Scenario, type Step } from '@mmsim/core';
import { TraceFormatError } from './errors.js';
import { IMPORT_FORMATS, type ImportFormat, importTrace, isImportFormat } from './import/index.js';
import { openTrace } from './open.js';
import { ACCESS, type RecordColumns } from './columns.js';
import { TraceReplayer } from './replay.js';

/** What one replay step read and translated (the run document's `replay` entries). */
export interface ReplayExpansion {
  /** the step's path (`steps[2]`) */
  step: string;
  /** the `trace` field as written */
  trace: string;
  /** the scenario process the trace's first process became */
  pid: string;
  /** trace records read */
  records: number;
  /** scenario steps the records became */
  steps: number;
  /** replay_* counts (docs/trace-format.md "Replay") */
  counters: Record<string, number>;
  /** one line per kind of approximation */
  warnings: string[];
}

export interface ExpandOptions {
  /** where relative `trace` paths start (the scenario file's directory) */
  baseDir: string;
  /** the scenario file, for errors */
  file: string;
  /** the machine's CPU count: trace CPUs and threads map onto CPUs 0 .. cpus-1 */
  cpus: number;
}

/** Whether a step list has a replay step (at any depth). */
export function hasReplaySteps(steps: readonly Step[]): boolean {
  return steps.some((s) => s.op === 'replay' || (s.op === 'repeat' && hasReplaySteps(s.steps)));
}

/**
 * The scenario with every `replay` step expanded (a copy; `scenario` is not changed). Throws a
 * ScenarioError naming the step and the `trace` field for an unreadable or malformed trace.
 */
export async function expandReplaySteps(
  scenario: Scenario,
  opts: ExpandOptions,
): Promise<{ scenario: Scenario; replays: ReplayExpansion[] }> {
  const replays: ReplayExpansion[] = [];
  // processes the scenario has made so far, in step order (a replay into one of them adds no spawn)
  const known = new Set<string>();
  const into = new Map<string, number>();
  // the scenario's files, with those the traces map (a file the scenario names itself is kept)
  let files: Record<string, FileSpec> | undefined = scenario.files;
  const walk = async (steps: readonly Step[], at: string): Promise<Step[]> => {
    const out: Step[] = [];
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      const where = `${at}[${i}]`;
      if (s.op === 'spawn') known.add(s.pid);
      else if (s.op === 'fork') known.add(s.child);
      if (s.op === 'repeat') {
        out.push(hasReplaySteps(s.steps) ? { ...s, steps: await walk(s.steps, `${where}.steps`) } : s);
        continue;
      }
      if (s.op !== 'replay') {
        out.push(s);
        continue;
      }
      const { expansion, steps: body, pids, files: mapped } = await expandOne(s, where, known, into, opts);
      for (const [name, f] of Object.entries(mapped)) {
        const mine = scenario.files?.[name];
        if (mine !== undefined) {
          if (parseSize(mine.size) < f.size)
            throw new ScenarioError(
              opts.file,
              `files.${name}`,
              'size',
              `the trace of ${where} maps ${f.size} bytes of it (the file the scenario names is smaller)`,
            );
          continue;
        }
        files = { ...files, [name]: { ...f, size: Math.max(f.size, parseSize(files?.[name]?.size ?? 0)) } };
      }
      for (const p of pids) known.add(p);
      replays.push(expansion);
      out.push({ op: 'repeat', times: 1, steps: body as Step[], ...(s.phase ? { phase: s.phase } : {}) });
    }
    return out;
  };
  const steps = await walk(scenario.steps, 'steps');
  return { scenario: { ...scenario, steps, ...(files ? { files } : {}) }, replays };
}

async function expandOne(
  s: Extract<Step, { op: 'replay' }>,
  where: string,
  known: ReadonlySet<string>,
  into: Map<string, number>,
  opts: ExpandOptions,
): Promise<{
  expansion: ReplayExpansion;
  steps: Record<string, unknown>[];
  pids: string[];
  files: Record<string, FileSpec & { size: number }>;
}> {
  const file = path.resolve(opts.baseDir, s.trace);
  const existing = s.pid !== undefined && known.has(s.pid);
  // a second replay into the same process names its regions r2.m…, r3.m…
  const nth = s.pid !== undefined ? (into.get(s.pid) ?? 0) + 1 : 1;
  if (s.pid !== undefined) into.set(s.pid, nth);
  const t = new TraceReplayer({
    ...(s.pid !== undefined ? { pid: s.pid } : {}),
    cpus: opts.cpus,
    existing,
    ...(nth > 1 ? { regionPrefix: `r${nth}.` } : {}),
    ...(s.phaseAtFork ? { phaseAtFork: s.phaseAtFork } : {}),
    ...(s.phaseAfterFork ? { phaseAfterFork: s.phaseAfterFork } : {}),
    ...(s.implicitMappings !== undefined ? { implicitMappings: s.implicitMappings } : {}),
  });
  let records = 0;
  if (s.from !== undefined && !isImportFormat(s.from))
    throw new ScenarioError(
      opts.file,
      where,
      'from',
      `unknown trace format "${s.from}" (one of ${IMPORT_FORMATS.join(', ')}; without "from": an mmsim trace)`,
    );
  try {
    const reader = s.from !== undefined ? await importTrace(s.from as ImportFormat, file) : await openTrace(file);
    // the binary reader's columns: accesses as numbers, no record object and no await each
    const columns = (reader as { columns?: () => AsyncIterable<RecordColumns> }).columns;
    if (columns) {
      for await (const c of columns.call(reader)) {
        const { kind, pid, tid, page, w, n, ref, others } = c;
        for (let i = 0; i < c.length; i++) {
          if (kind[i] === ACCESS) {
            const ti = tid[i]!;
            t.addAccess(pid[i]!, ti < 0 ? undefined : ti, page[i]!, w[i] === 1, n[i]! > 0 ? n[i]! : 1);
          } else t.add(others[ref[i]!]!);
        }
        records += c.length;
      }
    } else
      for await (const r of reader) {
        t.add(r);
        records++;
      }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // the trace's own error stays the cause (`mmsim replay` prints it alone)
    if (e instanceof TraceFormatError)
      throw Object.assign(new ScenarioError(opts.file, where, 'trace', `malformed trace: ${e.message}`), { cause: e });
    if (typeof err.code === 'string')
      throw Object.assign(
        new ScenarioError(opts.file, where, 'trace', `cannot read the trace ${JSON.stringify(file)} (${err.code})`),
        { cause: e },
      );
    throw e;
  }
  const out = t.result();
  const names = t.processNames();
  if (!existing) {
    const clash = names.find((n) => known.has(n));
    if (clash !== undefined)
      throw new ScenarioError(
        opts.file,
        where,
        'pid',
        `the trace's process "${clash}" already exists in the scenario: give the replay a "pid" (the scenario process its first process becomes)`,
      );
  }
  return {
    expansion: {
      step: where,
      trace: s.trace,
      pid: names[0] ?? s.pid ?? '',
      records,
      steps: out.steps.length,
      counters: out.counters,
      warnings: out.warnings,
    },
    steps: out.steps,
    pids: names,
    files: out.files,
  };
}
