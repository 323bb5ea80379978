/** Control ops: drain (LRU add batches), phase (starts a named phase), repeat (runs its body n times). */
import type { OpHandler } from './executor.js';

export const drain: OpHandler<'drain'> = (x, s, where) => {
  const k = x.k;
  if (s.cpu === undefined) k.lruAddDrainAll();
  else {
    x.checkCpu(s.cpu, where);
    k.cpu = s.cpu;
    k.lruAddDrain(s.cpu);
  }
};

export const phase: OpHandler<'phase'> = (x, s) => {
  x.observer.onPhase?.(s.name);
};

export const repeat: OpHandler<'repeat'> = (x, s, where) => {
  for (let r = 0; r < s.times; r++) x.runSteps(s.steps, `${where}.steps`);
};
