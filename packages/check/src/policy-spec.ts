/**
 * A `--policy` value, as `mmsim run`, `mmsim compare` and `mmsim check` take it: `NAME` or
 * `NAME={"opt":1}` (NAME a package, a path, or a built-in name), a relative path made absolute
 * from the working directory. The CLI's `parsePolicyFlag` is this, with its FlagError.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { PluginRefSpec } from '@mmsim/core';
import { isPathSpecifier } from './compose/modules.js';

/** A `--policy` value that is not NAME or NAME={json options}; `detail` says why. */
export class PolicySpecError extends Error {
  constructor(
    readonly spec: string,
    readonly detail: string,
  ) {
    super(`--policy ${spec}: ${detail}`);
    this.name = 'PolicySpecError';
  }
}

/** Parse `NAME` or `NAME={"opt":1}`; a relative path is made absolute from `cwd`. Throws PolicySpecError. */
export function parsePolicySpec(spec: string, cwd = process.cwd()): PluginRefSpec {
  let name = spec;
  let options: Record<string, unknown> | undefined;
  const m = /^([^=]+)=(\{[\s\S]*)$/.exec(spec);
  if (m) {
    name = m[1]!;
    try {
      options = JSON.parse(m[2]!) as Record<string, unknown>;
    } catch (e) {
      throw new PolicySpecError(spec, `the options are not valid JSON: ${(e as Error).message}`);
    }
    if (!options || typeof options !== 'object' || Array.isArray(options))
      throw new PolicySpecError(spec, 'the options must be a JSON object');
  }
  if (name.trim() === '') throw new PolicySpecError(spec, 'expected NAME or NAME={json options}');
  if (isPathSpecifier(name) && !name.startsWith('file:') && !path.isAbsolute(name)) name = path.resolve(cwd, name);
  else if (!isPathSpecifier(name) && isFile(path.resolve(cwd, name))) name = path.resolve(cwd, name); // `dir/x.ts` typed in a shell
  return options ? { name, options } : name;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
