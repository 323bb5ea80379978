/**
 * Awaiting user code that may never settle (a module's top-level await, a Promise default
 * export, an async factory). When nothing is left that could settle the Promise the event loop
 * empties and Node ends the process without a word (exit 13, "unsettled top-level await").
 * settleOrStall() rejects with `stalled()` instead once the loop is empty ('beforeExit'), so the
 * loader reports the module like any other load error. No timeout: a module still waiting for a
 * timer or I/O is left to finish.
 */

/** A Promise or any object with a `then` method. */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/** settleOrStall() calls still waiting (the innermost one names the module best). */
let waiting = 0;

/**
 * `value` awaited; rejects with `stalled()` when the event loop empties before it settles.
 * With `outermost`, only when no other settleOrStall() is waiting (those report first).
 */
export async function settleOrStall<T>(
  value: T,
  stalled: () => Error,
  o: { outermost?: boolean } = {},
): Promise<Awaited<T>> {
  if (!isThenable(value)) return value as Awaited<T>;
  let onEmpty = (): void => undefined;
  const guard = new Promise<never>((_, reject) => {
    onEmpty = () => {
      if (!o.outermost || waiting === 1) reject(stalled());
    };
  });
  waiting++;
  process.on('beforeExit', onEmpty);
  try {
    return await Promise.race([value as Awaited<T>, guard]);
  } finally {
    waiting--;
    process.removeListener('beforeExit', onEmpty);
  }
}
