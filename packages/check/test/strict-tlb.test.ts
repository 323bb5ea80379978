import { describe, expect, it } from 'vitest';
import { createSystem, runScenario, ScenarioSchema } from '@mmsim/core';
import { resolvePreset } from '@mmsim/presets';
import { createStrictTlbHardware } from '../src/index.js';

describe('the strict TLB', () => {
  // Found by the soak (shrunk to these steps): the swap-in maps the page writable but clean
  // on a read fault (linux-6.18); a later write that hit the cached clean entry left the PTE
  // clean, so the next pageout dropped the write. A write through a clean entry must re-walk.
  it('a write through an entry cached clean sets the PTE dirty, so pageout keeps it', () => {
    const { config, plugins } = resolvePreset('linux-6.18');
    const sys = createSystem({
      hardware: createStrictTlbHardware({ cpus: 2 }),
      presetPlugins: plugins,
      config: { ...config, swap: { synchronousIo: false } } as never,
    });
    const page = { pid: 'p0', region: 'a', offset: 4096 };
    const r = runScenario(
      sys,
      ScenarioSchema.parse({
        name: 'clean-tlb-write',
        steps: [
          { op: 'spawn', pid: 'p0', cpu: 0 },
          { op: 'mmap', pid: 'p0', name: 'a', size: 65536 },
          { op: 'access', ...page, access: 'write', value: 4097 },
          { op: 'madvise', pid: 'p0', region: 'a', size: 8192, advice: 'pageout' },
          { op: 'access', ...page, access: 'read', expect: 4097 },
          { op: 'access', ...page, access: 'write', value: 4098 },
          { op: 'madvise', pid: 'p0', region: 'a', size: 8192, advice: 'pageout' },
          { op: 'access', ...page, access: 'read', expect: 4098 },
        ],
      }),
    );
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
    expect(r.total.counters.pswpout).toBe(2);
  });
});
