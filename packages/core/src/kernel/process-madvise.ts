/**
 * process_madvise() (mm/madvise.c, ecb8ac8b1f14, v5.10): madvise() of another process's (or the
 * caller's own) address space over a vector of ranges (vector_madvise()). The pidfd, the
 * PTRACE_MODE_READ and CAP_SYS_NICE checks always pass in mmsim.
 */
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { type Advice, madvise } from './madvise.js';

/** process_madvise_remote_valid(): what another process's mm may be advised (MADV_WILLNEED is not modelled). */
const REMOTE: ReadonlySet<Advice> = new Set<Advice>(['cold', 'pageout', 'collapse']);

/** Whether `advice` is allowed for the target (`self`: the caller's own mm). */
export function processMadviseValid(k: Kernel, advice: Advice, self: boolean): boolean {
  return REMOTE.has(advice) || (self && k.config.features.processMadviseSelf);
}

/**
 * vector_madvise(): do_madvise() of each range in turn on the target mm; an error stops the
 * vector. As the syscall returns the bytes advised when any were, an error after the first range
 * is not reported (returns the bytes done); an error in the first one is the call's errno.
 * Returns the pages advised.
 */
export function processMadvise(
  k: Kernel,
  target: MmStruct,
  self: boolean,
  ranges: ReadonlyArray<readonly [number, number]>,
  advice: Advice,
): number {
  k.charge(k.hw.costs.syscall);
  if (!processMadviseValid(k, advice, self))
    throw new SimError(
      `process_madvise: advice "${advice}" is not allowed on ${self ? 'this' : 'another'} process`,
      'einval',
    );
  let done = 0;
  for (const [a, b] of ranges) {
    try {
      madvise(k, target, a, b, advice);
    } catch (e) {
      if (done > 0 && e instanceof SimError && e.code !== 'internal' && e.code !== 'oom') return done;
      throw e;
    }
    done += b - a;
  }
  return done;
}
