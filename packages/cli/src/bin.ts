#!/usr/bin/env node
import 'reflect-metadata';

// Everything else loads after reflect-metadata (tsyringe needs the polyfill at import time).
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

try {
  const { runCli } = await import('./cli.js');
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: process.stderr.isTTY === true,
  });
} catch (e) {
  die(e);
}
