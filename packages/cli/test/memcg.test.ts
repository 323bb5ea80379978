import { describe, expect, it } from 'vitest';
import { fixture, mmsim } from './helpers.js';

describe('system.cgroups: bad input is exit 2, naming the file, step and field', () => {
  it('a bad size', async () => {
    const r = await mmsim('run', fixture('memcg/bad-size.yaml'), '--json');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('memcg/bad-size.yaml: scenario field "system.cgroups.redis.max"');
  });
  it('a size that is not a multiple of the page size', async () => {
    const r = await mmsim('run', fixture('memcg/unaligned.yaml'), '--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'memcg/unaligned.yaml: scenario field "system.cgroups.redis.high": 1000 is not a multiple of 4096',
    );
  });
  it('spawn in an unknown cgroup', async () => {
    const r = await mmsim('run', fixture('memcg/unknown.yaml'), '--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'memcg/unknown.yaml: steps[1] field "cgroup": unknown cgroup "resid" (system.cgroups declares "redis")',
    );
  });
});

describe('memcg OOM', () => {
  it('exits 1, naming the step, the op and the cgroup', async () => {
    const r = await mmsim('run', fixture('memcg/oom.yaml'), '--json');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/memcg\/oom\.yaml: steps\[2\]: op touch: out of memory in cgroup "redis": /);
    expect(r.stderr).toContain('the OOM killer picked "p"');
  });
});

describe('output: per cgroup memory files', () => {
  it('--json: memory.current, memory.swap.current, memory.max, memory.stat, memory.events in bytes', async () => {
    const r = await mmsim('run', fixture('memcg/small.yaml'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const cg = doc.phases.main.meminfo.cgroups.redis;
    expect(cg['memory.max']).toBe(262144);
    expect(cg['memory.high']).toBe('max');
    expect(cg['memory.current']).toBeLessThanOrEqual(262144);
    expect(cg['memory.current'] + cg['memory.swap.current']).toBe((128 + 3) * 4096);
    expect(cg['memory.stat'].pgfault).toBe(128);
    expect(cg['memory.events'].max).toBeGreaterThan(0);
  });
  it('text: memory.current and memory.swap.current rows in kB', async () => {
    const r = await mmsim('run', fixture('memcg/small.yaml'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/redis memory\.current\s+\d+/);
    expect(r.stdout).toMatch(/redis memory\.swap\.current\s+\d+/);
  });
});
