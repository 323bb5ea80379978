import { describe, expect, it } from 'vitest';
import { createSystem, runScenario, ScenarioSchema } from '@mmsim/core';
import { createHardware } from '../src/index.js';

const TiB = 2 ** 40;

function run(size: string) {
  const sys = createSystem({ hardware: createHardware({ cpus: 2 }) });
  const sc = ScenarioSchema.parse({
    name: 'limits',
    steps: [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'r', size },
    ],
  });
  runScenario(sys, sc, { file: 'limits.yaml' });
  return sys.kernel.procs.get('p')!.mm.vmas[0]!;
}

describe('arm64 limits', () => {
  it('cpus: 1 to 4096 (MAX_CPUS), the same error as flat and the other hardware', () => {
    expect(createHardware({ cpus: 4096 }).ncpus).toBe(4096);
    expect(() => createHardware({ cpus: 10000 })).toThrow(
      'option "cpus" must be an integer from 1 to 4096 (NR_CPUS), got 10000',
    );
    expect(() => createHardware({ cpus: 0 })).toThrow(
      'option "cpus" must be an integer from 1 to 4096 (NR_CPUS), got 0',
    );
  });

  it("TASK_SIZE is 0x1000000000000, 256 TiB; an mmap beyond it is ENOMEM on the step's size", () => {
    expect(createHardware().taskSize).toBe(2 ** 48);
    expect(run('100TiB').start * 4096).toBe(0xff00_0000_0000 - 100 * TiB);
    expect(() => run('1024TiB')).toThrow(
      'limits.yaml: steps[1] field "size": ENOMEM: 1 PiB (1125899906842624 bytes) does not fit in the arm64 user address space (TASK_SIZE 0x1000000000000, 256 TiB)',
    );
  });
});

describe('arm64: 48-bit user addresses (VA_BITS=48)', () => {
  it('maps 200 TiB (x86 cannot), top-down from 0xff00_0000_0000', () => {
    const v = run('200TiB');
    expect(v.start * 4096).toBe(0xff00_0000_0000 - 200 * TiB);
    expect(v.pages * 4096).toBe(200 * TiB);
  });
});
