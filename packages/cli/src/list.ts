/** `mmsim list`: kernel presets, hardware names and scenario ops. */
import { OP_NAMES } from '@mmsim/core';
import { DEFAULT_PRESET, getPreset, presetNames } from '@mmsim/presets';
import { BUILTIN_HARDWARE, DEFAULT_HARDWARE, hardwareFactory } from './hardware.js';

export interface Listing {
  presets: Array<{ name: string; description: string; extends?: string; default: boolean }>;
  hardware: Array<{ name: string; description: string; available: boolean; default: boolean }>;
  ops: string[];
}

export async function listing(): Promise<Listing> {
  const presets = presetNames().map((name) => {
    const p = getPreset(name)!;
    return {
      name,
      description: p.description,
      ...(p.extends ? { extends: p.extends } : {}),
      default: name === DEFAULT_PRESET,
    };
  });
  const hardware: Listing['hardware'] = [];
  for (const [name, h] of Object.entries(BUILTIN_HARDWARE)) {
    let available = false;
    try {
      available = hardwareFactory(await h.load()) !== undefined;
    } catch {
      available = false;
    }
    hardware.push({ name, description: h.description, available, default: name === DEFAULT_HARDWARE });
  }
  return { presets, hardware, ops: [...OP_NAMES] };
}

export function formatListing(l: Listing): string {
  const lines: string[] = ['kernel presets (--kernel, system.kernel):'];
  lines.push(...described(l.presets.map((p) => [p.name + (p.default ? ' *' : ''), p.description])));
  lines.push('', 'hardware (--hardware, system.hardware; or a package name / ./path exporting createHardware):');
  lines.push(
    ...described(
      l.hardware.map((h) => [
        h.name + (h.default ? ' *' : ''),
        h.description + (h.available ? '' : ' (not available: no createHardware export)'),
      ]),
    ),
  );
  lines.push('', 'ops:');
  lines.push(...wrap(l.ops, 96, '  '));
  lines.push('', '* default');
  return lines.join('\n') + '\n';
}

function wrap(words: string[], w: number, indent: string): string[] {
  const out: string[] = [];
  let cur = indent;
  for (const word of words) {
    if (cur.length > indent.length && cur.length + word.length + 1 > w) {
      out.push(cur);
      cur = indent;
    }
    cur += (cur.length > indent.length ? ' ' : '') + word;
  }
  out.push(cur);
  return out;
}

/** `  name  description` rows, descriptions word-wrapped to 100 columns. */
function described(rows: Array<[string, string]>, maxWidth = 100): string[] {
  const nameW = Math.max(...rows.map(([n]) => n.length));
  const indent = ' '.repeat(2 + nameW + 2);
  const out: string[] = [];
  for (const [name, desc] of rows) {
    const wrapped = wrap(desc.split(' '), maxWidth, indent);
    wrapped[0] = `  ${name.padEnd(nameW)}  ${wrapped[0]!.slice(indent.length)}`;
    out.push(...wrapped);
  }
  return out;
}
