import { describe, expect, it } from 'vitest';
import { registerPreset } from '@mmsim/presets';
import { fixture, mmsim, runJson } from './helpers.js';

describe('era rules: what the preset kernel does not have yet is bad input', () => {
  it('per-size mTHP switches on a pre-6.8 preset: exit 2 naming the field, the version and the commit', async () => {
    const r = await mmsim('run', fixture('era/mthp-on-5.9.yaml'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(
      `mmsim: ${fixture('era/mthp-on-5.9.yaml')}: scenario field "system.thp.64K": kernel preset "linux-5.9" (v5.9) has no per-size mTHP switches (/sys/kernel/mm/transparent_hugepage/hugepages-<size>kB/enabled): it arrived in v6.8 (3485b88390b0); use linux-6.8 or later`,
    );
    expect(r.stderr).toContain('mthp-on-5.9.yaml:4:');
  });

  it('the same file runs on linux-6.8 (--kernel), with 64 KiB folios', async () => {
    const { result } = await runJson('era/mthp-on-5.9.yaml', '--kernel', 'linux-6.8');
    expect(result.system.kernel).toBe('linux-6.8');
    expect(result.total.counters.pgfault).toBe(16);
    // the per-size stats directory (anon_fault_alloc, ...) arrived in v6.9 (ec33687c6749)
    expect(result.total.counters.mthp_64kB_anon_fault_alloc).toBeUndefined();
  });

  it('MADV_COLLAPSE before v6.1 names the step inside the repeat', async () => {
    const r = await mmsim('run', fixture('era/collapse-on-5.19.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'steps[2].steps[1] field "advice": kernel preset "linux-5.19" (v5.19) has no MADV_COLLAPSE',
    );
    expect(r.stderr).toContain('(7d8faaf15545)');
  });

  it('the multi-gen LRU before v6.1: exit 2 naming system.vm.lruGen; the same file runs on linux-6.18', async () => {
    const r = await mmsim('run', fixture('era/lru-gen-on-5.19.yaml'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(
      `mmsim: ${fixture('era/lru-gen-on-5.19.yaml')}: scenario field "system.vm.lruGen": kernel preset "linux-5.19" (v5.19) has no multi-gen LRU (/sys/kernel/mm/lru_gen/enabled): it arrived in v6.1 (354ed5974429); use linux-6.8 or later`,
    );
    const { result } = await runJson('era/lru-gen-on-5.19.yaml', '--kernel', 'linux-6.18');
    expect(result.total.counters.pgfault).toBe(8);
  });

  it('PMD THP on linux-5.9 is allowed, and its policy is named for its own era', async () => {
    const { result } = await runJson('era/thp-top-on-5.9.yaml');
    expect(result.system.policies).toContain('policy-large-folio(linux-5.8)');
    expect(result.total.counters.thp_fault_alloc).toBe(2);
    expect(result.total.counters.pgfault).toBe(2);
  });

  it('userfaultfd write-protect on a preset based on v5.6: exit 2 naming the step and the field', async () => {
    registerPreset({
      name: 'research-5.6',
      description: 'test: a preset based on v5.6',
      extends: 'linux-5.8',
      kernelVersion: '5.6',
      config: {},
      slots: {},
    });
    const r = await mmsim('run', fixture('era/uffd-wp-on-5.6.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      `mmsim: ${fixture('era/uffd-wp-on-5.6.yaml')}: steps[2] field "mode": kernel preset "research-5.6" (v5.6) has no userfaultfd write-protect (UFFDIO_REGISTER_MODE_WP, UFFDIO_WRITEPROTECT, UFFDIO_COPY_MODE_WP): it arrived in v5.7 (63b2d4174c4a); use linux-5.7 or later`,
    );
    const ok = await mmsim('run', fixture('era/uffd-wp-on-5.6.yaml'), '--kernel', 'linux-5.7');
    expect(ok.code).toBe(0);
  });
});
