/** The worker thread bin.ts runs `mmsim run` (see interrupt.ts) and `mmsim check` in; posts the exit code. */
import 'reflect-metadata';
import { parentPort, workerData } from 'node:worker_threads';
import type { CheckMessage } from '@mmsim/check';

// everything else loads after reflect-metadata (tsyringe needs the polyfill at import time)
const { routeUserOutput } = await import('./user-output.js');
const stdout = routeUserOutput();
const { runCli } = await import('./cli.js');
const { setInterruptFlag } = await import('./interrupt.js');

const data = workerData as {
  argv: string[];
  isTTY: boolean;
  columns?: number;
  /** `mmsim run`: the interrupt flag (interrupt.ts) */
  flag?: Int32Array;
  /** `mmsim check`: the flags @mmsim/check's supervisor shares (its stdout goes through the port too) */
  checkFlags?: Int32Array;
};
if (data.flag) setInterruptFlag(data.flag);
// the progress bar sizes itself from the (main thread's) terminal
if (data.columns) (process.stderr as { columns?: number }).columns = data.columns;
const { guardStalled } = await import('./stalled.js');
const port = parentPort!;
const channel = data.checkFlags
  ? { flags: data.checkFlags, post: (m: CheckMessage) => port.postMessage(m) }
  : undefined;
const code = await guardStalled(
  runCli(data.argv, {
    stdout: channel ? { write: (s: string) => (channel.post({ t: 'stdout', s }), true) } : stdout,
    stderr: process.stderr,
    isTTY: data.isTTY,
    ...(channel ? { channel } : {}),
  }),
  process.stderr,
);
parentPort!.postMessage({ code });
