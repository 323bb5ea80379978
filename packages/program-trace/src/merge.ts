import type { TraceRecord } from './records.js';

/**
 * Merge per-thread record streams into the one order of a trace file, deterministically:
 * repeatedly take the stream whose head has the smallest key (a recorder's global sequence
 * number or timestamp), ties to the lower stream index; each stream's own order is kept.
 * The file order is the replay order: a reader never reorders.
 */
export async function* mergeThreadStreams<T extends TraceRecord>(
  streams: ReadonlyArray<AsyncIterable<T>>,
  key: (r: T) => number,
): AsyncGenerator<T> {
  const its = streams.map((s) => s[Symbol.asyncIterator]());
  const heads: (T | undefined)[] = await Promise.all(its.map(async (it) => (await it.next()).value as T | undefined));
  for (;;) {
    let best = -1;
    let bestKey = 0;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h === undefined) continue;
      const k = key(h);
      if (best < 0 || k < bestKey) {
        best = i;
        bestKey = k;
      }
    }
    if (best < 0) return;
    yield heads[best] as T;
    const next = await (its[best] as AsyncIterator<T>).next();
    heads[best] = next.done ? undefined : next.value;
  }
}
