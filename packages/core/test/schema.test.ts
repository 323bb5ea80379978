import { describe, expect, it } from 'vitest';
import { fromZod, ScenarioError, ScenarioSchema } from '../src/index.js';
import { runError } from './helpers.js';

function parseError(input: unknown): ScenarioError {
  const res = ScenarioSchema.safeParse(input);
  if (res.success) throw new Error('parsed without an error');
  return fromZod('bad.yaml', res.error, input);
}

const spawn = { op: 'spawn', pid: 'p', cpu: 0 };

describe('scenario schema: bad input names the file, the step path and the field', () => {
  it('unknown op', () => {
    const e = parseError({ name: 'x', steps: [spawn, { op: 'frobnicate', pid: 'p' }] });
    expect(e).toBeInstanceOf(ScenarioError);
    expect(e.file).toBe('bad.yaml');
    expect(e.where).toBe('steps[1]');
    expect(e.field).toBe('op');
    expect(e.message).toContain('unknown op "frobnicate"');
    expect(e.message.startsWith('bad.yaml: steps[1] field "op"')).toBe(true);
  });

  it('wrong field type', () => {
    const e = parseError({
      name: 'x',
      steps: [
        spawn,
        { op: 'mmap', pid: 'p', name: 'b', size: '4KiB' },
        { op: 'thread', pid: 'p', cpu: 1, spin: 'yes' },
      ],
    });
    expect(e.where).toBe('steps[2]');
    expect(e.field).toBe('spin');
    const e2 = parseError({ name: 'x', steps: [{ op: 'spawn', pid: 5 }] });
    expect(e2.where).toBe('steps[0]');
    expect(e2.field).toBe('pid');
  });

  it('unknown field', () => {
    const e = parseError({
      name: 'x',
      steps: [spawn, { op: 'mmap', pid: 'p', name: 'b', size: '4KiB', colour: 'red' }],
    });
    expect(e.where).toBe('steps[1]');
    expect(e.field).toBe('colour');
    expect(e.message).toContain('unknown field(s) "colour"');
  });

  it('bad size string', () => {
    const e = parseError({ name: 'x', steps: [spawn, { op: 'mmap', pid: 'p', name: 'b', size: '12 parsecs' }] });
    expect(e.where).toBe('steps[1]');
    expect(e.field).toBe('size');
    expect(e.message).toContain('not a size: "12 parsecs"');
  });

  it('bad input inside a repeat names the nested step', () => {
    const e = parseError({
      name: 'x',
      steps: [
        spawn,
        { op: 'mmap', pid: 'p', name: 'b', size: '4KiB' },
        { op: 'repeat', times: 2, steps: [{ op: 'touch', pid: 'p', region: 'b', access: 'execute' }] },
      ],
    });
    expect(e.where).toBe('steps[2].steps[0]');
    expect(e.field).toBe('access');
  });

  it('a bad top-level field names no step', () => {
    const e = parseError({ name: 'x', steps: [], system: { swap: { synchronousIo: 'sometimes' } } });
    expect(e.where).toBe('system.swap.synchronousIo');
    expect(e.field).toBeUndefined();
  });

  it('runtime errors name the step and the field too (unknown region, size beyond the region, dead process)', () => {
    const base = [spawn, { op: 'mmap', pid: 'p', name: 'b', size: '8KiB' }];
    const e1 = runError({
      name: 'x',
      steps: [...base, { op: 'touch', pid: 'p', region: 'nope', access: 'read' }],
    }) as ScenarioError;
    expect([e1.where, e1.field]).toEqual(['steps[2]', 'region']);
    const e2 = runError({
      name: 'x',
      steps: [...base, { op: 'madvise', pid: 'p', region: 'b', offset: '4KiB', size: '8KiB', advice: 'pageout' }],
    }) as ScenarioError;
    expect([e2.where, e2.field]).toEqual(['steps[2]', 'size']);
    const e3 = runError({
      name: 'x',
      steps: [...base, { op: 'exit', pid: 'p' }, { op: 'touch', pid: 'p', region: 'b', access: 'read' }],
    }) as ScenarioError;
    expect([e3.where, e3.field]).toEqual(['steps[3]', 'pid']);
    const e4 = runError({
      name: 'x',
      steps: [...base, { op: 'repeat', times: 2, steps: [{ op: 'munmap', pid: 'p', region: 'b', size: '3000' }] }],
    }) as ScenarioError;
    expect([e4.where, e4.field]).toEqual(['steps[2].steps[0]', 'size']);
  });
});
