import { describe, expect, it } from 'vitest';
import { fixture, mmsim, runJson } from './helpers.js';

const COWPTE_DEFAULTS = '{"excludeRegions":[],"gupCopyExclusive":true,"inPlace":["reclaim","madvise"]';

describe('the same plugin composed twice', () => {
  it("a preset's plugin named again in system.policies: one warning, composed once", async () => {
    const { code, result, stderr } = await runJson('dup/preset-and-scenario.yaml');
    expect(code).toBe(0);
    expect(stderr).toBe(
      `mmsim: ${fixture('dup/preset-and-scenario.yaml')}: warning: plugin "policy-cowpte" is composed twice with the same options (system.kernel "linux-6.18+cowpte" and system.policies[0] "@mmsim/policy-cowpte"): composed once (the one from system.kernel "linux-6.18+cowpte")\n`,
    );
    expect(result.system.policies).toEqual([
      'policy-refcount(anon-exclusive)',
      'policy-large-folio(linux-6.18)',
      'policy-cowpte',
    ]);
    expect(result.total.counters.cow_pte_share).toBe(1);
    expect(result.total.counters.cow_pte_break).toBe(1);
  });

  it('named twice with the same options (defaults spelled out, keys in another order): composed once', async () => {
    const { code, result, stderr } = await runJson('dup/named-twice.yaml');
    expect(code).toBe(0);
    expect(stderr).toContain(
      'warning: plugin "policy-cowpte" is composed twice with the same options (system.policies[0] "@mmsim/policy-cowpte" and system.policies[1] "@mmsim/policy-cowpte"): composed once (the one from system.policies[0] "@mmsim/policy-cowpte")',
    );
    expect(result.system.policies.filter((p: string) => p === 'policy-cowpte')).toHaveLength(1);
  });

  it('different options: exit 2 naming both sources and both option sets', async () => {
    const r = await mmsim('run', fixture('dup/different-options.yaml'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(
      `mmsim: ${fixture('dup/different-options.yaml')}: scenario field "system.policies[0]": plugin "policy-cowpte" is composed twice with different options: ${COWPTE_DEFAULTS},"minTables":2,"shareHigherLevels":false} from system.kernel "linux-6.18+cowpte" and ${COWPTE_DEFAULTS},"minTables":1,"shareHigherLevels":false} from system.policies[0] "@mmsim/policy-cowpte" (name it once; a preset's plugins take their options from kernelOptions)`,
    );
    expect(r.stderr).toContain('different-options.yaml:7:');
  });

  it("a --policy that differs from the preset's names the flag", async () => {
    const flag = '@mmsim/policy-cowpte={"minTables":3}';
    const r = await mmsim('run', fixture('fork-cow.yaml'), '--kernel', 'linux-6.18+cowpte', '--policy', flag);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      `mmsim: --policy ${flag}: plugin "policy-cowpte" is composed twice with different options: ${COWPTE_DEFAULTS},"minTables":1,"shareHigherLevels":false} from system.kernel "linux-6.18+cowpte" (from --kernel) and ${COWPTE_DEFAULTS},"minTables":3,"shareHigherLevels":false} from --policy ${flag} (name it once; a preset's plugins take their options from kernelOptions)`,
    );
  });

  it('a policy the preset does not have: no warning', async () => {
    const { stderr, result } = await runJson('fork-cow.yaml', '--policy', '@mmsim/policy-cowpte');
    expect(stderr).toBe('');
    expect(result.system.policies).toContain('policy-cowpte');
  });

  it('mmsim check: a --policy its --kernel already has warns once and checks', async () => {
    const r = await mmsim('check', '--kernel', 'linux-6.18+cowpte', '--policy', '@mmsim/policy-cowpte', '--runs', '2');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'mmsim check: warning: plugin "policy-cowpte" is composed twice with the same options (--kernel linux-6.18+cowpte and --policy @mmsim/policy-cowpte): composed once (the one from --kernel linux-6.18+cowpte)\n',
    );
    expect(r.stdout).toContain('2 runs');
  });
});
