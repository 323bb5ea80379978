/** A failing run as a scenario file that `mmsim run` replays and that fails the same way. */
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Scenario, Step } from '@mmsim/core';
import type { Violation } from './invariants/index.js';
import { systemSpec, type Composition, type RunSystemOptions } from './system.js';

/** Violation kinds that only the invariants see (reads, pins and thrown errors fail by themselves). */
const SELF_FAILING = new Set(['read', 'read-leak', 'pin', 'pin-leak', 'error', 'tlb', 'setup']);

/** pid of the step appended so that the invariants plugin checks the final state */
export const CHECKPOINT_PID = 'check';

export function failingScenario(
  c: Composition,
  variant: RunSystemOptions,
  steps: readonly Step[],
  violation: Violation,
  opts: { name: string; dir?: string },
): Scenario {
  const out: Step[] = structuredClone(steps as Step[]);
  // a spawn triggers mm.created, where the invariants plugin checks the state the last step left
  if (!SELF_FAILING.has(violation.kind)) out.push({ op: 'spawn', pid: CHECKPOINT_PID, cpu: 0 });
  return {
    name: opts.name,
    description: `found by mmsim check (${violation.kind}): ${violation.message}`,
    system: systemSpec(c, variant, { ...(opts.dir ? { dir: opts.dir } : {}), withInvariants: true }),
    steps: out,
  };
}

/** The output directory cannot be used (not a directory, not creatable, not writable). */
export class OutDirError extends Error {
  override name = 'OutDirError';
  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super(`--out ${dir}: ${reason}`);
  }
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code} (${err.message.replace(/^[A-Z]+: /, '')})` : String(err.message ?? e);
}

/**
 * Create `dir` and its missing parents, then check it is a writable directory. Walks up to the
 * first existing ancestor and creates each component with a plain mkdir, because Node's
 * `mkdirSync(..., { recursive: true })` loops forever on some file systems (e.g. /proc/x: mkdir
 * answers ENOENT although the parent exists). Throws OutDirError.
 */
export function ensureOutDir(dir: string): string {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  for (let p = abs; ; ) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new OutDirError(dir, `cannot use ${p}: ${reason(e)}`);
      missing.push(p);
      const parent = path.dirname(p);
      if (parent === p) throw new OutDirError(dir, `cannot use ${p}: ${reason(e)}`);
      p = parent;
      continue;
    }
    if (!isDir) throw new OutDirError(dir, `${p === abs ? 'exists and is' : `${p} is`} not a directory`);
    break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (e) {
      const exists =
        (e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(p, { throwIfNoEntry: false })?.isDirectory();
      if (!exists) throw new OutDirError(dir, `cannot create ${p}: ${reason(e)}`);
    }
  }
  try {
    accessSync(abs, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new OutDirError(dir, `not writable: ${reason(e)}`);
  }
  return abs;
}

export function writeScenario(dir: string, file: string, sc: Scenario): string {
  ensureOutDir(dir);
  const p = path.join(dir, file);
  try {
    writeFileSync(p, JSON.stringify(sc, null, 2) + '\n');
  } catch (e) {
    throw new OutDirError(dir, `cannot write ${p}: ${reason(e)}`);
  }
  return p;
}

/**
 * Write a finding as `finding-<first 16 hex digits of the SHA-1 of the file's bytes>.json` (as
 * libFuzzer/AFL name crashes): runs with other hardware, CPUs, policies or seeds never overwrite
 * each other's reproducers. An existing file is never overwritten: the same bytes → the same
 * name, and the file is kept as it is. Returns the path.
 */
export function writeFinding(dir: string, sc: Scenario): string {
  ensureOutDir(dir);
  const text = JSON.stringify(sc, null, 2) + '\n';
  const sha = createHash('sha1').update(text).digest('hex');
  for (const name of [`finding-${sha.slice(0, 16)}.json`, `finding-${sha}.json`]) {
    const p = path.join(dir, name);
    try {
      writeFileSync(p, text, { flag: 'wx' });
      return p;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new OutDirError(dir, `cannot write ${p}: ${reason(e)}`);
      let old: string | undefined;
      try {
        old = readFileSync(p, 'utf8');
      } catch {}
      if (old === text) return p; // already found
      // a different file under the short name: try the full hash
    }
  }
  throw new OutDirError(dir, `finding-${sha}.json exists with other content; not overwriting it`);
}
