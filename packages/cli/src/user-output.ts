/**
 * Plugins, hardware modules and scenario modules are user code running inside the CLI: what
 * they print (console.log, process.stdout.write) goes to stderr, so that stdout holds only what
 * the CLI writes — with --json exactly one JSON document. bin.ts and run-worker.ts call
 * routeUserOutput() before anything user-written loads and give the CLI the stream it returns.
 */

type Write = NodeJS.WriteStream['write'];

/** Send every later write to process.stdout to stderr; returns the CLI's own way to stdout. */
export function routeUserOutput(): { write(s: string): boolean } {
  const out = process.stdout;
  const own = out.write.bind(out) as (s: string) => boolean;
  const toStderr = ((chunk: unknown, ...rest: unknown[]) =>
    (process.stderr.write as (...a: unknown[]) => boolean)(chunk, ...rest)) as Write;
  // an own property shadows Writable.prototype.write; the global console writes through it too
  out.write = toStderr;
  return { write: own };
}
