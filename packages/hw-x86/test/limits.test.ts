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

describe('x86 limits', () => {
  it('cpus: 1 to 4096 (MAX_CPUS), the same error as flat and the other hardware', () => {
    expect(createHardware({ cpus: 4096 }).ncpus).toBe(4096);
    expect(() => createHardware({ cpus: 10000 })).toThrow(
      'option "cpus" must be an integer from 1 to 4096 (NR_CPUS), got 10000',
    );
    expect(() => createHardware({ cpus: 0 })).toThrow(
      'option "cpus" must be an integer from 1 to 4096 (NR_CPUS), got 0',
    );
  });

  it("TASK_SIZE is 0x7ffffffff000, 128 TiB; an mmap beyond it is ENOMEM on the step's size", () => {
    expect(createHardware().taskSize).toBe(2 ** 47 - 4096);
    expect(run('100TiB').start * 4096).toBe(0x7f00_0000_0000 - 100 * TiB);
    expect(() => run('1024TiB')).toThrow(
      'limits.yaml: steps[1] field "size": ENOMEM: 1 PiB (1125899906842624 bytes) does not fit in the x86 user address space (TASK_SIZE 0x7ffffffff000, 128 TiB)',
    );
  });
});

describe('x86: 47-bit user addresses', () => {
  it('200 TiB does not fit (it does on arm64 with 48 bits)', () => {
    expect(() => run('200TiB')).toThrow('steps[1] field "size": ENOMEM: 200 TiB (219902325555200 bytes) does not fit');
  });
});
