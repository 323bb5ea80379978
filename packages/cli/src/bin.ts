#!/usr/bin/env node
// Whatever imports @mmsim/core loads after reflect-metadata (tsyringe needs the polyfill at import
// time). `mmsim run`'s main thread loads neither: it only starts the worker (run-worker.ts).
const debug = !!process.env.MMSIM_DEBUG && process.env.MMSIM_DEBUG !== '0';

function die(e: unknown): void {
  process.stderr.write(
    `mmsim: internal error: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}${debug ? '' : ' (set MMSIM_DEBUG=1 for the stack)'}\n`,
  );
  if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exit(3);
}

// `mmsim run x.yaml | head`: a closed pipe is not an error worth a stack trace
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  die(e);
});
process.on('uncaughtException', die);
process.on('unhandledRejection', die);

/**
 * `mmsim run` runs in a worker thread so that SIGINT / SIGTERM are seen while the synchronous
 * run loop is busy (interrupt.ts): the first signal sets the shared flag, the runner stops at
 * the next leaf step and the worker prints what finished (exit 130); a second signal, or a
 * step that does not end within 2 s, ends the process at once (130, nothing on stdout).
 */
async function runInWorker(argv: string[]): Promise<number> {
  const { Worker } = await import('node:worker_threads');
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const isTTY = process.stderr.isTTY === true;
  const worker = new Worker(new URL('./run-worker.js', import.meta.url), {
    workerData: { argv, isTTY, columns: process.stderr.columns, flag },
  });
  let signals = 0;
  const onSignal = () => {
    signals++;
    Atomics.store(flag, 0, 1);
    const hard = (why: string) => {
      process.stderr.write(`\nmmsim: interrupted: ${why}; nothing of the run is printed\n`);
      process.exit(130);
    };
    if (signals > 1) hard('a second signal ends the run at once');
    else
      setTimeout(
        () => hard("the run did not stop within 2 s of the signal (one step, or a plugin's tap, is still running)"),
        2000,
      ).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return new Promise<number>((resolve, reject) => {
    let code: number | undefined;
    worker.on('message', (m: { code: number }) => (code = m.code));
    worker.on('error', reject);
    worker.on('exit', (c) => resolve(code ?? (c === 0 ? 0 : 3)));
  });
}

/**
 * `mmsim check` runs in a worker thread too, supervised by @mmsim/check's superviseCheck: this
 * thread owns the signals (the worker stops after its run and prints what finished; one that
 * does not stop within 300 ms is terminated and this thread prints it) and the tap watchdog.
 */
async function checkInWorker(argv: string[]): Promise<number> {
  const { Worker } = await import('node:worker_threads');
  await import('reflect-metadata');
  const { superviseCheck, parseCheckArgs, SLOTS } = await import('@mmsim/check');
  const flags = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  let json = false;
  try {
    json = parseCheckArgs(argv.slice(1)).json === true; // a bad flag: the worker says so
  } catch {}
  const worker = new Worker(new URL('./run-worker.js', import.meta.url), {
    workerData: { argv, isTTY: process.stderr.isTTY === true, columns: process.stderr.columns, checkFlags: flags },
  });
  return superviseCheck({ worker, flags, stdout: process.stdout, stderr: process.stderr, json });
}

const inWorker = (argv: string[], cmd: string) =>
  argv[0] === cmd &&
  !argv.includes('--help') &&
  !argv.includes('-h') &&
  // `check --queue`: the producer waits on Redis in this thread (queue/check.ts)
  !argv.some((a) => a === '--queue' || a.startsWith('--queue='));

try {
  const argv = process.argv.slice(2);
  if (inWorker(argv, 'run')) {
    process.exitCode = await runInWorker(argv);
  } else if (inWorker(argv, 'check')) {
    process.exitCode = await checkInWorker(argv);
  } else {
    await import('reflect-metadata');
    const { routeUserOutput } = await import('./user-output.js');
    const stdout = routeUserOutput();
    const { runCli } = await import('./cli.js');
    const { guardStalled } = await import('./stalled.js');
    process.exitCode = await guardStalled(
      runCli(process.argv.slice(2), { stdout, stderr: process.stderr, isTTY: process.stderr.isTTY === true }),
      process.stderr,
    );
  }
} catch (e) {
  die(e);
}
