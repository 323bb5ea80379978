import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HOOK_SPECS, POLICY_API_VERSION } from '@mmsim/core';
import { afterEach, describe, expect, it } from 'vitest';
import { findPolicyPackages } from '../src/discover.js';
import { mmsim } from './helpers.js';

describe('mmsim list', () => {
  it('lists the first-party policy packages with their version and API range', async () => {
    const r = await mmsim('list', 'policies', '--json');
    expect(r.code).toBe(0);
    const l = JSON.parse(r.stdout);
    expect(Object.keys(l)).toEqual(['policies']);
    expect(l.policies.api).toBe(POLICY_API_VERSION);
    const names = l.policies.packages.map((p: { name: string }) => p.name);
    expect(names).toEqual(
      expect.arrayContaining(['@mmsim/policy-cowpte', '@mmsim/policy-large-folio', '@mmsim/policy-refcount']),
    );
    for (const p of l.policies.packages) expect(p).toMatchObject({ api: '^1.0.0', incompatible: null });
  });

  it('every hook of the catalogue, with its kind', async () => {
    const l = JSON.parse((await mmsim('list', 'hooks', '--json')).stdout);
    expect(l.hooks.map((h: { name: string }) => h.name)).toEqual(Object.keys(HOOK_SPECS));
    expect(l.hooks.find((h: { name: string }) => h.name === 'fault.wpReuse').kind).toBe('bail');
  });

  it('counters by source: core, the presets’ policies, each hardware model', async () => {
    const l = JSON.parse((await mmsim('list', 'counters', '--json')).stdout);
    const by = Object.fromEntries(l.counters.map((c: { source: string; names: string[] }) => [c.source, c.names]));
    expect(by['core (vmstat names and docs/counters.md)']).toContain('pgfault');
    expect(by['hardware x86']).toContain('ipi_sent');
    expect(by['hardware arm64']).toContain('tlbi_broadcast');
    expect(Object.values(by).flat()).toContain('cow_pte_share');
  });

  it('cost profiles per hardware', async () => {
    const l = JSON.parse((await mmsim('list', 'profiles', '--json')).stdout);
    const names = l.profiles.map((p: { hardware: string; name: string }) => `${p.hardware} ${p.name}`);
    expect(names).toEqual(expect.arrayContaining(['x86 bare-metal', 'x86 kvm-guest', 'arm64 neoverse-n1']));
  });

  it('an unknown section is exit 2 naming the known ones', async () => {
    const r = await mmsim('list', 'polices');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'unknown section "polices" (known: presets, hardware, policies, hooks, counters, profiles, ops)',
    );
  });
});

describe('policy package discovery', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0));

  function pkg(root: string, name: string, json: Record<string, unknown>): void {
    const dir = path.join(root, 'node_modules', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '2.3.4', ...json }));
  }

  it('finds packages with the "mmsim-policy" keyword above the working directory, and flags an API mismatch', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'mmsim-discover-'));
    dirs.push(root);
    pkg(root, 'mmsim-policy-mine', { keywords: ['mmsim-policy'], peerDependencies: { '@mmsim/core': '^1.0.0' } });
    pkg(root, '@lab/old-policy', { keywords: ['mmsim-policy'], mmsim: { api: '^0.9.0' } });
    pkg(root, 'not-a-policy', { keywords: ['mmsim'] });
    const cwd = path.join(root, 'experiments', 'a');
    mkdirSync(cwd, { recursive: true });
    const found = findPolicyPackages(cwd).filter((p) => !p.name.startsWith('@mmsim/'));
    expect(found.map((p) => [p.name, p.version, p.api])).toEqual([
      ['@lab/old-policy', '2.3.4', '^0.9.0'],
      ['mmsim-policy-mine', '2.3.4', '^1.0.0'],
    ]);
    expect(found[0]!.incompatible).toMatch(/built for policy API \^0\.9\.0/);
    expect(found[1]!.incompatible).toBeNull();
  });
});
