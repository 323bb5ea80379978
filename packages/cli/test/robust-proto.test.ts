import { describe, expect, it } from 'vitest';
import { fixture, mmsim } from './helpers.js';

describe('robustness: no silent wrong results', () => {
  it('phases and processes named __proto__ / constructor appear in --json', async () => {
    const r = await mmsim('run', fixture('robust/proto-phases.json'), '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j.phases)).toEqual(['main', '__proto__', 'constructor']);
    expect(Object.hasOwn(j.phases, '__proto__')).toBe(true);
    expect(j.phases.__proto__.counters.pgfault).toBe(4);
    expect(j.phases.constructor.steps).toBe(1);
    expect(Object.keys(j.phases.__proto__.meminfo.processes)).toEqual(['__proto__']);
    expect(Object.keys(j.total.meminfo.processes)).toEqual(['__proto__']);
  });
});
