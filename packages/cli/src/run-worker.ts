/** The worker thread bin.ts runs `mmsim run` in (see interrupt.ts); posts the exit code. */
import 'reflect-metadata';
import { parentPort, workerData } from 'node:worker_threads';

// everything else loads after reflect-metadata (tsyringe needs the polyfill at import time)
const { routeUserOutput } = await import('./user-output.js');
const stdout = routeUserOutput();
const { runCli } = await import('./cli.js');
const { setInterruptFlag } = await import('./interrupt.js');

const data = workerData as { argv: string[]; isTTY: boolean; columns?: number; flag: Int32Array };
setInterruptFlag(data.flag);
// the progress bar sizes itself from the (main thread's) terminal
if (data.columns) (process.stderr as { columns?: number }).columns = data.columns;
const { guardStalled } = await import('./stalled.js');
const code = await guardStalled(
  runCli(data.argv, { stdout, stderr: process.stderr, isTTY: data.isTTY }),
  process.stderr,
);
parentPort!.postMessage({ code });
