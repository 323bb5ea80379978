import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MmSystem, SystemSpec } from '@mmsim/core';
import { systemOf } from '@mmsim/check';
import { resolveSystem } from '../src/index.js';
import { fixture } from './helpers.js';

const baseDir = path.resolve(fixture('.'));

function summary(sys: MmSystem) {
  return {
    kernel: sys.kernelName,
    hardware: sys.hardware.name,
    cpus: sys.hardware.ncpus,
    plugins: sys.plugins.map((p) => p.name),
    config: sys.config,
  };
}

const blocks: Record<string, SystemSpec> = {
  'defaults only': {},
  'preset without an lruBatchSize, thp sizes, swap, memory': {
    kernel: 'linux-6.18',
    thp: { top: 'madvise', '2M': 'always', '64KiB': 'inherit' },
    swap: { synchronousIo: true, size: '8MiB' },
    memory: '64MiB',
  },
  'every kind of plugin module, hardware by path': {
    kernel: 'linux-5.8',
    hardware: './hw/test-hw.mjs',
    hardwareOptions: { cpus: 3 },
    lruBatchSize: 7,
    policies: [
      { name: './plugins/always-copy.ts', options: { decision: 'reuse' } },
      './plugins/default-object.mjs',
      { name: './plugins/named-factory.mjs', options: { tag: 'x' } },
      './plugins/cjs-exports.cjs',
    ],
  },
};

describe('one composer: `mmsim run` and check’s replay build the same system', () => {
  for (const [what, block] of Object.entries(blocks)) {
    it(what, async () => {
      const run = await resolveSystem(block, { baseDir, file: 'inline' });
      const replay = await systemOf({ name: 'inline', system: block, steps: [] }, baseDir);
      expect(summary(replay)).toEqual(summary(run));
    });
  }

  it('loads default-export objects, named factories and CommonJS exports', async () => {
    const sys = await resolveSystem(blocks['every kind of plugin module, hardware by path'], {
      baseDir,
      file: 'inline',
    });
    expect(sys.plugins.map((p) => p.name)).toEqual(
      expect.arrayContaining(['always-reuse', 'default-object', 'named-factory-x', 'cjs-one', 'cjs-two']),
    );
  });

  it('replay reports a bad plugin with the same field as `mmsim run`', async () => {
    const block: SystemSpec = { policies: ['./plugins/not-a-plugin.mjs'] };
    const run = await resolveSystem(block, { baseDir, file: 'inline' }).catch((e: Error) => e.message);
    const replay = await systemOf({ name: 'inline', system: block, steps: [] }, baseDir).catch((e: Error) => e.message);
    expect(run).toMatch(/system\.policies\[0\].*has no default export factory/);
    expect(replay).toBe(run);
  });
});
