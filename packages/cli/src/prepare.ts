/**
 * The scenario a `mmsim run` invocation runs: the file with its `${NAME}` placeholders filled
 * (`--var`), the other hardware's options dropped (`--hardware`), fields overridden (`--set`) and
 * policies added (`--policy`), then validated.
 */
import path from 'node:path';
import type { ExplainerOptions, PluginRefSpec } from '@mmsim/core';
import type { ReplayExpansion } from '@mmsim/program-trace';
import { FlagError } from './flag-error.js';
import { DEFAULT_HARDWARE } from './hardware.js';
import { filterHardwareOptions } from './hardware-options.js';
import { readScenario, type LoadedScenario } from './load.js';
import { applySet, parsePolicyFlag, parseSetFlag, type SetFlag } from './overrides.js';
import { substituteVars } from './vars.js';

/** What `mmsim run` was asked to run (the flags that change the run). */
export interface RunRequest {
  file: string;
  kernel?: string | undefined;
  hardware?: string | undefined;
  seed?: number | undefined;
  /** `--policy` values as typed */
  policies?: readonly string[] | undefined;
  /** `--set` values as typed */
  sets?: readonly string[] | undefined;
  /** `--var NAME=VALUE`: one value each */
  vars?: Readonly<Record<string, string>> | undefined;
  /** `--explain`: the document gains `decisions` */
  explain?: boolean | ExplainerOptions | undefined;
  /** `--max-steps`: the step budget (overrides the file's limits.maxSteps) */
  maxSteps?: number | undefined;
}

export interface PreparedScenario {
  loaded: LoadedScenario;
  /** lines for stderr (e.g. dropped hardware options) */
  notes: string[];
  /** how many `system.policies` entries the file itself has (the rest come from --policy) */
  filePolicies: number;
  /** the --policy entries, relative paths made absolute */
  policyRefs: PluginRefSpec[];
  sets: SetFlag[];
  /** the file's hardwareOptions dropped for --hardware */
  dropped: string[];
  /** the hardware the file names (before --hardware) */
  fileHardware: string;
  /** the file's `replay` steps, expanded (run.ts) */
  replays?: ReplayExpansion[];
}

const MODULE_EXT = /\.(?:[mc]?[jt]s)$/i;

/** Parse the flags (throws FlagError) without reading the file. */
export function parseRequestFlags(req: RunRequest): { sets: SetFlag[]; policyRefs: PluginRefSpec[] } {
  return {
    sets: (req.sets ?? []).map(parseSetFlag),
    policyRefs: (req.policies ?? []).map((p) => parsePolicyFlag(p)),
  };
}

/** Read and validate the scenario of `req`. Throws FlagError or ScenarioError. */
export async function prepareScenario(req: RunRequest): Promise<PreparedScenario> {
  const { sets, policyRefs } = parseRequestFlags(req);
  const vars = req.vars ?? {};
  const notes: string[] = [];
  let dropped: string[] = [];
  let filePolicies = 0;
  let fileHardware = DEFAULT_HARDWARE;
  const isModule = MODULE_EXT.test(path.extname(req.file));
  const loaded = await readScenario(req.file, {
    ...(isModule
      ? Object.keys(vars).length > 0
        ? {
            text: (t: string) => t,
            noText: () => {
              const n = Object.keys(vars)[0]!;
              throw new FlagError(
                '--var',
                n,
                `${req.file} is a module: --var fills \${NAME} placeholders in .json and .yaml files only`,
              );
            },
          }
        : {}
      : {
          text: (t: string) => substituteVars(t, req.file, vars),
          // without --var the text is used as it is unless it has a placeholder (an error)
          ...(Object.keys(vars).length === 0 ? { textChanges: (line: string) => line.includes('${') } : {}),
        }),
    input: async (input) => {
      if (!input || typeof input !== 'object' || Array.isArray(input)) return input;
      const doc = input as { system?: Record<string, unknown> };
      const sys = doc.system && typeof doc.system === 'object' ? doc.system : undefined;
      if (typeof sys?.hardware === 'string') fileHardware = sys.hardware;
      if (req.hardware !== undefined && req.hardware !== fileHardware && sys) {
        const ho = sys.hardwareOptions;
        if (ho && typeof ho === 'object' && !Array.isArray(ho) && Object.keys(ho).length > 0) {
          const r = await filterHardwareOptions(req.hardware, ho as Record<string, unknown>);
          dropped = r.dropped;
          if (dropped.length > 0) {
            sys.hardwareOptions = r.kept;
            notes.push(
              `--hardware ${req.hardware}: dropped the file's hardwareOptions for ${fileHardware} that ${req.hardware} does not accept: ${dropped.join(', ')}`,
            );
          }
        }
      }
      for (const s of sets) applySet(doc, s, req.file);
      if (policyRefs.length > 0) {
        doc.system ??= {};
        const list = Array.isArray(doc.system.policies) ? doc.system.policies : [];
        filePolicies = list.length;
        doc.system.policies = [...list, ...policyRefs];
      } else if (Array.isArray(doc.system?.policies)) filePolicies = doc.system.policies.length;
      return doc;
    },
  });
  return { loaded, notes, filePolicies, policyRefs, sets, dropped, fileHardware };
}
