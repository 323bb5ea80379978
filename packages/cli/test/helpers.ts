import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A fixture path as a user would type it (relative to the working directory). */
export function fixture(name: string): string {
  return path.relative(process.cwd(), path.join(here, 'fixtures', name));
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI in-process with captured output. */
export async function mmsim(...args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    isTTY: false,
    env: {},
  });
  return { code, stdout, stderr };
}

/** `mmsim run FILE --json ...` parsed. */
export async function runJson(file: string, ...args: string[]): Promise<{ code: number; result: any; stderr: string }> {
  const r = await mmsim('run', fixture(file), '--json', ...args);
  if (r.code !== 0 && r.code !== 1) throw new Error(`mmsim exited ${r.code}: ${r.stderr}`);
  return { code: r.code, result: JSON.parse(r.stdout), stderr: r.stderr };
}
