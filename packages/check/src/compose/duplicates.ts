/**
 * The same plugin composed twice (a preset's and the scenario's, or one named twice): by plugin
 * name. With the same options it is composed once (the first: a preset's before the scenario's)
 * and the caller warns; with different options it is an error naming both sources, since which
 * of the two answers a hook would depend on precedence, not on what the scenario says.
 */
import type { AnyPlugin } from '@mmsim/core';

/** A plugin with where it came from. */
export interface SourcedPlugin {
  plugin: AnyPlugin;
  /** for messages: `system.kernel "linux-6.18+cowpte"`, `system.policies[0] "@mmsim/policy-cowpte"` */
  source: string;
  /** the options the source asked for (used when the plugin has no `options` property) */
  options?: Record<string, unknown> | undefined;
}

export interface Duplicate {
  /** the plugin name */
  name: string;
  first: SourcedPlugin;
  second: SourcedPlugin;
  /** same options: composed once */
  same: boolean;
  /** one sentence for a warning or an error */
  detail: string;
}

/** The options a plugin runs with: its own `options` (what its factory made of them), else the requested ones. */
export function pluginOptions(s: SourcedPlugin): unknown {
  const own = (s.plugin as { options?: unknown }).options;
  return own !== undefined && own !== null && typeof own === 'object' ? own : (s.options ?? {});
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` compare equal. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : x,
  );
}

/**
 * Drop the second of two same-named plugins with the same options; list every duplicate
 * (`same: false` ones are errors for the caller). Preset plugins come first.
 */
export function dropDuplicates(
  preset: readonly SourcedPlugin[],
  policies: readonly SourcedPlugin[],
): { preset: AnyPlugin[]; policies: AnyPlugin[]; duplicates: Duplicate[] } {
  // a plugin's options in canonical JSON, made when its name turns up again (only then compared)
  const seen = new Map<string, { s: SourcedPlugin; json: string | undefined }>();
  const duplicates: Duplicate[] = [];
  const keep = (list: readonly SourcedPlugin[]): AnyPlugin[] => {
    const out: AnyPlugin[] = [];
    for (const s of list) {
      const prev = seen.get(s.plugin.name);
      if (!prev) {
        seen.set(s.plugin.name, { s, json: undefined });
        out.push(s.plugin);
        continue;
      }
      prev.json ??= canonicalJson(pluginOptions(prev.s));
      const json = canonicalJson(pluginOptions(s));
      const same = prev.json === json;
      const name = s.plugin.name;
      duplicates.push({
        name,
        first: prev.s,
        second: s,
        same,
        detail: same
          ? `plugin "${name}" is composed twice with the same options (${prev.s.source} and ${s.source}): composed once (the one from ${prev.s.source})`
          : `plugin "${name}" is composed twice with different options: ${prev.json} from ${prev.s.source} and ${json} from ${s.source} (name it once; a preset's plugins take their options from kernelOptions)`,
      });
      if (!same) out.push(s.plugin);
    }
    return out;
  };
  const p = keep(preset);
  return { preset: p, policies: keep(policies), duplicates };
}
