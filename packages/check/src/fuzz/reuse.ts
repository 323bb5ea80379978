/**
 * Reusing a composed system for the next fuzzing run instead of composing it again (fast-paths.ts
 * `reuseSystems`). A system is reused only when everything in it that outlives a run is known to
 * hold no state between runs once reset: core's resetKernelState() makes the kernel, the
 * counters' values and the clock as a fresh system's; the hardware is the flat model (its only
 * state, the batched-flush CPU mask, is cleared) or the checker's strict TLB (its TLBs emptied);
 * and every plugin is one whose taps keep no state between calls: the mainline presets' policies
 * (policy-refcount, policy-large-folio: each tap decides from its options, the system's
 * configuration and the call's context) and this package's large-folios policy. Any other plugin
 * (an extra policy, a research preset's plugin) or hardware model: a system per run, as before.
 */
import { FlatHardware, resetKernelState, type AnyPlugin, type MmSystem } from '@mmsim/core';
import { PRESETS, resolvePreset } from '@mmsim/presets';
import { FAST } from '../fast-paths.js';
import { StrictTlbHardware } from '../hardware/strict-tlb.js';
import { STATELESS } from '../policies/large-folios.js';
import { buildSystem, type Composition, type RunSystemOptions } from '../system.js';

/** The plugin packages whose plugins keep no state between calls (audited; see the comment at the top). */
const STATELESS_PACKAGES = new Set(['policy-refcount', 'policy-large-folio']);

let statelessClasses: Set<unknown> | undefined;

/** The classes of those packages' plugins, as the built-in presets make them (no dependency on the packages). */
function knownClasses(): Set<unknown> {
  if (statelessClasses) return statelessClasses;
  const out = new Set<unknown>();
  for (const name of Object.keys(PRESETS)) {
    for (const p of resolvePreset(name).plugins) {
      const ctor = (p as { constructor?: { PLUGIN_NAME?: unknown } }).constructor;
      if (ctor && typeof ctor.PLUGIN_NAME === 'string' && STATELESS_PACKAGES.has(ctor.PLUGIN_NAME)) out.add(ctor);
    }
  }
  return (statelessClasses = out);
}

function statelessPlugin(p: AnyPlugin): boolean {
  return STATELESS.has(p) || knownClasses().has((p as { constructor?: unknown }).constructor);
}

/** The hardware's reset, when it is one whose whole state is known; else null. */
function hardwareReset(sys: MmSystem): (() => void) | null {
  const hw = sys.hardware;
  if (hw.constructor === StrictTlbHardware) return () => (hw as StrictTlbHardware).reset();
  if (hw.constructor === FlatHardware) {
    const mask = (hw as unknown as { batchMask?: unknown }).batchMask;
    if (mask instanceof Uint8Array) return () => mask.fill(0);
  }
  return null;
}

interface Pooled {
  sys: MmSystem;
  resetHardware: () => void;
  /** the tap watcher the system's taps were made with */
  watcher: object | null;
  /** the composition's hardware choice it was made from */
  hardware: Composition['hardware'];
}

/** per composition: per variant, the system of the last run */
const pools = new WeakMap<Composition, Map<string, Pooled>>();

/**
 * The system of a run: the composition's system for this variant, reset, when one can be
 * reused; else a newly composed one (kept for the next run when it can be reused). `watcher`:
 * the TapMonitor set while composing (its taps are made with it, so only the same one reuses).
 */
export function systemFor(c: Composition, v: RunSystemOptions, watcher: object | null): MmSystem {
  if (!FAST.reuseSystems) return buildSystem(c, v);
  // what buildSystem() reads (a Composition is a plain object: it could be changed between runs)
  const key = `${c.kernel}|${c.cpus}|${c.thp === true}|${v.largeFolios}|${v.swapSync}|${v.smallBatches}|${v.pressure === true}`;
  let pool = pools.get(c);
  const hit = pool?.get(key);
  if (hit && hit.watcher === watcher && hit.hardware === c.hardware && c.policies.length === 0) {
    resetKernelState(hit.sys);
    hit.resetHardware();
    return hit.sys;
  }
  const sys = buildSystem(c, v);
  if (c.policies.length > 0 || !sys.plugins.every(statelessPlugin)) return sys;
  const resetHardware = hardwareReset(sys);
  if (!resetHardware) return sys;
  if (!pool) pools.set(c, (pool = new Map()));
  pool.set(key, { sys, resetHardware, watcher, hardware: c.hardware });
  return sys;
}
