/**
 * `mmsim list [SECTION]`: kernel presets, hardware, installed policy packages, hooks, counters,
 * cost profiles and scenario ops (`--json` for tools).
 */
import { CORE_COUNTERS, HOOK_SPECS, OP_NAMES, POLICY_API_VERSION } from '@mmsim/core';
import { DEFAULT_PRESET, getPreset, presetKernelVersion, presetNames } from '@mmsim/presets';
import { findPolicyPackages, type InstalledPolicy } from './discover.js';
import { FlagError } from './flag-error.js';
import { BUILTIN_HARDWARE, DEFAULT_HARDWARE, hardwareFactory } from './hardware.js';
import type { ModuleNamespace } from './modules.js';
import { resolveSystem } from './resolve.js';
import { described, wrap } from './list-format.js';

import { LIST_SECTIONS, type ListSection } from './list-sections.js';

export { LIST_SECTIONS, type ListSection };

export interface Listing {
  presets?: Array<{ name: string; description: string; extends?: string; kernelVersion?: string; default: boolean }>;
  hardware?: Array<{ name: string; description: string; available: boolean; default: boolean }>;
  /** policy packages (keyword "mmsim-policy") installed where mmsim looks */
  policies?: { api: string; packages: InstalledPolicy[] };
  /** the hook catalogue: name, kind (bail / waterfall / notify) and the answers it takes */
  hooks?: Array<{ name: string; kind: string; expected: string }>;
  /** counter names, by where they come from (core, a preset's policies, a hardware model) */
  counters?: Array<{ source: string; names: string[] }>;
  /** cost profiles (`system.hardwareOptions.profile`) per hardware */
  profiles?: Array<{ hardware: string; name: string; description: string }>;
  ops?: string[];
}

/** Parse the SECTION argument (undefined: every section). Throws FlagError. */
export function listSections(arg: string | undefined): readonly ListSection[] {
  if (arg === undefined) return LIST_SECTIONS;
  if ((LIST_SECTIONS as readonly string[]).includes(arg)) return [arg as ListSection];
  throw new FlagError('', '', `mmsim list: unknown section "${arg}" (known: ${LIST_SECTIONS.join(', ')})`);
}

async function loadHardware(name: string): Promise<ModuleNamespace | undefined> {
  try {
    return await BUILTIN_HARDWARE[name]!.load();
  } catch {
    return undefined;
  }
}

/** Counters a composed system defines (compositions are cheap: nothing runs). */
async function countersOf(kernel: string, hardware: string): Promise<readonly string[]> {
  const sys = await resolveSystem({ kernel, hardware }, { baseDir: process.cwd(), file: '<mmsim list>' });
  return sys.stats.counterNames();
}

async function counterSources(): Promise<Array<{ source: string; names: string[] }>> {
  const known = new Set<string>(CORE_COUNTERS);
  const out: Array<{ source: string; names: string[] }> = [
    { source: 'core (vmstat names and docs/counters.md)', names: [...CORE_COUNTERS] },
  ];
  for (const preset of presetNames()) {
    const extra = (await countersOf(preset, 'flat')).filter((n) => !known.has(n));
    extra.forEach((n) => known.add(n));
    if (extra.length > 0)
      out.push({ source: `policies of preset ${preset} (and the presets extending it)`, names: extra });
  }
  for (const hw of Object.keys(BUILTIN_HARDWARE)) {
    if (hw === 'flat') continue;
    const extra = (await countersOf(DEFAULT_PRESET, hw).catch(() => [])).filter((n) => !known.has(n));
    extra.forEach((n) => known.add(n));
    if (extra.length > 0) out.push({ source: `hardware ${hw}`, names: extra });
  }
  return out;
}

async function profiles(): Promise<NonNullable<Listing['profiles']>> {
  const out: NonNullable<Listing['profiles']> = [
    { hardware: 'flat', name: '(unit costs)', description: 'every operation costs 1 cycle' },
  ];
  for (const hw of Object.keys(BUILTIN_HARDWARE)) {
    if (hw === 'flat') continue;
    const mod = await loadHardware(hw);
    const table = (mod?.PROFILES ?? {}) as Record<string, { description?: unknown }>;
    for (const [name, p] of Object.entries(table)) {
      const description = typeof p.description === 'string' ? p.description : `${mod?.PLUGIN_NAME ?? hw} profile`;
      out.push({ hardware: hw, name, description });
    }
  }
  return out;
}

export async function listing(sections: readonly ListSection[] = LIST_SECTIONS): Promise<Listing> {
  const want = new Set(sections);
  const l: Listing = {};
  if (want.has('presets')) {
    l.presets = presetNames().map((name) => {
      const p = getPreset(name)!;
      const kernelVersion = presetKernelVersion(name);
      return {
        name,
        description: p.description,
        ...(p.extends ? { extends: p.extends } : {}),
        ...(kernelVersion ? { kernelVersion } : {}),
        default: name === DEFAULT_PRESET,
      };
    });
  }
  if (want.has('hardware')) {
    l.hardware = [];
    for (const [name, h] of Object.entries(BUILTIN_HARDWARE)) {
      const mod = await loadHardware(name);
      const available = mod !== undefined && hardwareFactory(mod) !== undefined;
      l.hardware.push({ name, description: h.description, available, default: name === DEFAULT_HARDWARE });
    }
  }
  if (want.has('policies')) l.policies = { api: POLICY_API_VERSION, packages: findPolicyPackages() };
  if (want.has('hooks')) {
    l.hooks = Object.entries(HOOK_SPECS).map(([name, s]) => ({ name, kind: s.kind, expected: s.expected }));
  }
  if (want.has('counters')) l.counters = await counterSources();
  if (want.has('profiles')) l.profiles = await profiles();
  if (want.has('ops')) l.ops = [...OP_NAMES];
  return l;
}

export function formatListing(l: Listing): string {
  const lines: string[] = [];
  const section = (title: string, body: string[]) => {
    if (lines.length > 0) lines.push('');
    lines.push(title, ...body);
  };
  if (l.presets) {
    section(
      'kernel presets (--kernel, system.kernel):',
      described(l.presets.map((p) => [p.name + (p.default ? ' *' : ''), p.description])),
    );
  }
  if (l.hardware) {
    section(
      'hardware (--hardware, system.hardware; or a package name / ./path exporting createHardware):',
      described(
        l.hardware.map((h) => [
          h.name + (h.default ? ' *' : ''),
          h.description + (h.available ? '' : ' (not available: no createHardware export)'),
        ]),
      ),
    );
  }
  if (l.policies) {
    const rows = l.policies.packages.map((p): [string, string] => [
      `${p.name}@${p.version}`,
      `${p.description}${p.description ? ' ' : ''}[api ${p.api ?? '?'}${p.incompatible ? `: NOT COMPATIBLE: ${p.incompatible}` : ''}]`,
    ]);
    section(
      `policy packages (keyword "mmsim-policy"; --policy NAME, system.policies; this core: policy API ${l.policies.api}):`,
      rows.length > 0 ? described(rows) : ['  (none found)'],
    );
  }
  if (l.hooks) {
    section(
      'hooks (docs/policy-api.md; kind: answer):',
      described(l.hooks.map((h) => [h.name, h.kind === 'notify' ? 'notify' : `${h.kind}: ${h.expected}`])),
    );
  }
  if (l.counters) {
    const body: string[] = [];
    for (const c of l.counters) body.push(`  ${c.source}:`, ...wrap(c.names, 100, '    '));
    section('counters (phases[*].counters in --json):', body);
  }
  if (l.profiles) {
    section(
      'cost profiles (system.hardwareOptions.profile):',
      described(l.profiles.map((p) => [`${p.hardware} ${p.name}`, p.description])),
    );
  }
  if (l.ops) section('ops:', wrap(l.ops, 96, '  '));
  if (l.presets || l.hardware) lines.push('', '* default');
  return lines.join('\n') + '\n';
}
