import { describe, expect, it } from 'vitest';
import { fixture, mmsim, runJson } from './helpers.js';

describe('mmsim run', () => {
  it('runs a JSON scenario: 16 written pages give 16 faults', async () => {
    const { code, result } = await runJson('touch16.json');
    expect(code).toBe(0);
    const touch = result.phases.touch;
    expect(touch.counters.pgfault).toBe(16);
    expect(touch.counters.pgalloc).toBe(16);
    expect(touch.meminfo.AnonPages).toBe(64);
    expect(touch.meminfo.processes.p.VmRSS).toBe(64);
    expect(result.total.counters.pgfault).toBe(16);
    expect(result.system).toMatchObject({ hardware: 'flat', kernel: 'linux-6.18' });
    expect(result.system.options.cpus).toBe(2);
  });

  it('runs a YAML scenario: fork, child COW, parent reuse after the child exits', async () => {
    const { result } = await runJson('fork-cow.yaml');
    expect(Object.keys(result.phases)).toEqual(['main', 'touch', 'fork', 'child-cow', 'parent-after-exit']);
    expect(result.phases.touch.counters.pgfault).toBe(16);
    expect(result.phases.fork.counters.pgfault).toBeUndefined();
    expect(result.phases['child-cow'].counters).toMatchObject({ pgfault: 16, cow_copy: 16 });
    expect(result.phases['parent-after-exit'].counters).toMatchObject({ pgfault: 16, pgreuse: 16 });
    expect(result.phases['parent-after-exit'].counters.cow_copy).toBeUndefined();
    expect(result.phases.fork.meminfo.processes.c).toMatchObject({ VmRSS: 64 });
    expect(result.total.counters.pgfault).toBe(48);
  });

  it('runs a TypeScript scenario module (default export, loaded with jiti)', async () => {
    const { result } = await runJson('typed.ts');
    expect(result.scenario).toBe('typed');
    expect(result.phases.read.counters.pgfault).toBe(8);
    expect(result.phases.read.meminfo.AnonPages).toBe(0); // reads map the zero page
    expect(result.phases.write.counters.pgfault).toBe(8);
    expect(result.phases.write.meminfo.AnonPages).toBe(32);
  });

  it('runs a JavaScript scenario module whose default export is a function', async () => {
    const { result } = await runJson('scenario.mjs');
    expect(result.scenario).toBe('from-mjs');
    expect(result.system.options.cpus).toBe(1);
    // 32 KiB with an 8 KiB stride: 4 faults, then 4 TLB-less walks that do not fault
    expect(result.total.counters.pgfault).toBe(4);
    expect(result.phases.main.steps).toBe(4);
  });

  it('--json prints exactly one JSON document of the spec shape on stdout', async () => {
    const r = await mmsim('run', fixture('fork-cow.yaml'), '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.endsWith('}\n')).toBe(true);
    const result = JSON.parse(r.stdout);
    expect(r.stdout).toBe(JSON.stringify(result, null, 2) + '\n');
    expect(result).toMatchObject({
      scenario: 'fork-cow',
      system: { hardware: 'flat', kernel: 'linux-6.18', policies: expect.any(Array), options: expect.any(Object) },
      checks: { passed: 0, failed: 0, failures: [] },
    });
    for (const p of [...Object.values(result.phases), result.total] as any[]) {
      expect(p.counters).toEqual(expect.any(Object));
      expect(typeof p.cycles).toBe('number');
      expect(p.userCycles + p.kernelCycles).toBe(p.cycles);
      for (const k of ['AnonPages', 'PageTables', 'SwapCached', 'AnonHugePages'])
        expect(typeof p.meminfo[k]).toBe('number');
      for (const proc of Object.values(p.meminfo.processes) as any[]) {
        expect(typeof proc.VmRSS).toBe('number');
        expect(typeof proc.VmPTE).toBe('number');
      }
      for (const v of Object.values(p.counters)) expect(v).not.toBe(0);
    }
  });

  it('is deterministic: the same file and seed give byte-identical output', async () => {
    const a = await mmsim('run', fixture('random.yaml'), '--json', '--seed', '42');
    const b = await mmsim('run', fixture('random.yaml'), '--json', '--seed', '42');
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(JSON.parse(a.stdout).seed).toBe(42);
    const t1 = await mmsim('run', fixture('random.yaml'));
    const t2 = await mmsim('run', fixture('random.yaml'));
    expect(t1.stdout).toBe(t2.stdout);
    expect(JSON.parse((await mmsim('run', fixture('random.yaml'), '--json')).stdout).seed).toBe(1);
  });

  it('prints a readable table by default', async () => {
    const r = await mmsim('run', fixture('fork-cow.yaml'));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^scenario\s+fork-cow/);
    expect(r.stdout).toMatch(/^hardware\s+flat, 2 CPUs$/m);
    expect(r.stdout).toMatch(/^kernel\s+linux-6\.18$/m);
    expect(r.stdout).toMatch(/^phase\s+main\s+touch\s+fork\s+child-cow\s+parent-after-exit\s+total$/m);
    expect(r.stdout).toMatch(/^ {2}pgfault\s+-\s+16\s+-\s+16\s+16\s+48$/m);
    expect(r.stdout).toMatch(/^ {2}cow_copy\s+-\s+-\s+-\s+16\s+-\s+16$/m);
    // flat hardware: one user cycle per access (16 per touch of 16 pages), nothing else is user
    expect(r.stdout).toMatch(/^ {2}cycles:u\s+0\s+16\s+0\s+16\s+16\s+48$/m);
    expect(r.stdout).toMatch(/^ {2}c VmRSS\s+-\s+-\s+64\s+-\s+-\s+-$/m);
    expect(r.stdout).toMatch(/^checks\s+none$/m);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
  });

  it('falls back to one block per phase when there are many phases', async () => {
    const r = await mmsim('run', fixture('many-phases.yaml'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^phase one: 1 step, \d+ cycles$/m);
    // the split of the title's cycles: user (the accesses) and kernel (the faults)
    const one = r.stdout.slice(r.stdout.indexOf('phase one:'));
    const [, tot, u, k] = /^phase one: 1 step, ([\d,]+) cycles\n {2}cycles:u\s+([\d,]+)\s+cycles:k\s+([\d,]+)$/m.exec(
      one,
    )!;
    const n = (x: string | undefined) => Number(x!.replace(/,/g, ''));
    expect(n(u) + n(k)).toBe(n(tot));
    expect(r.stdout).toMatch(/^phase seven-with-a-rather-long-name: 1 step/m);
    expect(r.stdout).toMatch(/^total: 10 steps/m);
    expect(r.stdout).toMatch(/^ {2}pgfault\s+8\b/m);
    for (const l of r.stdout.split('\n')) expect(l.length).toBeLessThanOrEqual(100);
  });

  it('a failed expect exits 1 and still prints the full output', async () => {
    const t = await mmsim('run', fixture('failed-expect.yaml'));
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/^checks\s+1 passed, 1 failed$/m);
    expect(t.stdout).toContain('FAILED steps[4]: read 5, expected 7');
    const j = await mmsim('run', fixture('failed-expect.yaml'), '--json');
    expect(j.code).toBe(1);
    const result = JSON.parse(j.stdout);
    expect(result.checks).toEqual({
      passed: 1,
      failed: 1,
      failures: [{ step: 'steps[4]', message: 'read 5, expected 7' }],
    });
    expect(result.phases.check).toBeDefined();
  });

  it('a policy plugin loaded by relative path changes the counts', async () => {
    const { result } = await runJson('with-policy.yaml');
    expect(result.system.policies).toContain('always-copy');
    const after = result.phases['parent-after-exit'].counters;
    expect(after.cow_copy).toBe(16);
    expect(after.pgreuse).toBeUndefined();
    expect(after.pgfault).toBe(16);
  });

  it('loads a hardware module by relative path and passes hardwareOptions', async () => {
    const { result } = await runJson('custom-hw.yaml');
    expect(result.system.hardware).toBe('test-hw');
    expect(result.system.options.cpus).toBe(3);
    expect(result.total.counters.pgfault).toBe(4);
  });

  it('--hardware and --kernel override the file', async () => {
    // a path given with --hardware is relative to the working directory
    const hw = fixture('hw/test-hw.mjs');
    const { result } = await runJson(
      'touch16.json',
      '--hardware',
      hw.startsWith('.') ? hw : `./${hw}`,
      '--kernel',
      'linux-5.8',
    );
    expect(result.system.hardware).toBe('test-hw');
    expect(result.system.kernel).toBe('linux-5.8');
    expect(result.system.options.lruBatchSize).toBe(15);
    expect(result.phases.touch.counters.pgfault).toBe(16);
  });

  it('maps system settings into the kernel configuration', async () => {
    const { result } = await runJson('system-config.yaml');
    expect(result.system.kernel).toBe('linux-6.8');
    expect(result.system.options).toMatchObject({
      cpus: 4,
      lruBatchSize: 7,
      swap: { slots: 131072, synchronousIo: false },
      thp: { top: 'madvise', '2048K': 'never', '64K': 'always' },
      hardwareOptions: { cpus: 4 },
    });
    expect(result.total.meminfo.SwapTotal).toBe(512 * 1024);
  });
});
