import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MmSystem } from '@mmsim/core';
import { buildSystem, resolveComposition, systemOf, systemSpec } from '../src/index.js';

function summary(sys: MmSystem) {
  return {
    kernel: sys.kernelName,
    hardware: sys.hardware.name,
    cpus: sys.hardware.ncpus,
    plugins: sys.plugins.map((p) => p.name),
    config: sys.config,
  };
}

describe('`mmsim check` runs and their replays build the same system', () => {
  const variants = [
    { largeFolios: false, swapSync: true, smallBatches: false },
    { largeFolios: true, swapSync: false, smallBatches: true },
  ];
  for (const kernel of ['linux-5.8', 'linux-6.18']) {
    for (const v of variants) {
      it(`${kernel} ${JSON.stringify(v)}`, async () => {
        const c = resolveComposition({ kernel, hardware: 'strict', cpus: 3, policies: ['no-flush-cow'], thp: true });
        const dir = path.resolve('.');
        const replay = await systemOf({ name: 'x', system: systemSpec(c, v, { dir }), steps: [] }, dir);
        expect(summary(replay)).toEqual(summary(buildSystem(c, v)));
      });
    }
  }
});
