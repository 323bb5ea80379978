import { buildSystem, resolveComposition, StepDriver, type Violation } from '../src/index.js';
import type { Step } from '@mmsim/core';

/** Drive `steps` on a composition; return the first violation (or null) and the driver. */
export function drive(
  steps: Step[],
  o: {
    kernel?: string;
    policies?: string[];
    largeFolios?: boolean;
    swapSync?: boolean;
    cpus?: number;
    hardware?: string;
    thp?: boolean;
    pressure?: boolean;
  } = {},
): { violation: Violation | null; d: StepDriver; at: number } {
  const c = resolveComposition({
    kernel: o.kernel ?? 'linux-6.18',
    policies: o.policies ?? [],
    cpus: o.cpus ?? 2,
    hardware: o.hardware ?? 'strict',
    ...(o.thp ? { thp: true } : {}),
  });
  const d = new StepDriver(
    buildSystem(c, {
      largeFolios: o.largeFolios ?? false,
      swapSync: o.swapSync ?? true,
      smallBatches: false,
      ...(o.pressure ? { pressure: true } : {}),
    }),
  );
  for (let i = 0; i < steps.length; i++) {
    const v = d.exec(steps[i]!);
    if (v.length) return { violation: v[0]!, d, at: i };
  }
  return { violation: null, d, at: -1 };
}

export const P = 4096;

/** A CheckIO that keeps what checkCommand writes: `out` and `err`, one entry per write. */
export function captureIO() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } },
  };
}
