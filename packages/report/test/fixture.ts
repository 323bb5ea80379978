/**
 * Compare documents for the tests, derived from fixtures/forceswap-compare.json: real `mmsim run
 * --json` documents of examples/forceswap (rounds = 250, 500, 1000 under linux-5.8 and linux-5.9;
 * regenerate with scripts/gen-fixture.mjs). forceswap is deterministic, so another seed gives the
 * same document with another `seed`; `jitter` perturbs the numbers per seed to exercise error bars.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CompareConfig, CompareDocument, PhaseDocument, RunDocument } from '../src/index.js';

/** The label used to check escaping: breaks out of a <script>, then an element with a handler. */
export const XSS = '</script><img src=x onerror=alert(1)>';

export function loadFixture(): CompareDocument {
  const file = fileURLToPath(new URL('./fixtures/forceswap-compare.json', import.meta.url));
  return JSON.parse(readFileSync(file, 'utf8')) as CompareDocument;
}

export interface FixtureOptions {
  /** keep the rounds sweep (default true); false: linux-5.8 vs linux-5.9 at rounds=1000, no vars */
  sweep?: boolean;
  /** seeds per configuration (default [1]) */
  seeds?: number[];
  /** per-seed relative perturbation of counters and cycles (default 0) */
  jitter?: number;
  /** label of a configuration (default: the fixture's; `seed` is the seed of that copy) */
  label?: (c: CompareConfig, seed: number) => string;
  /** put this string into every place a scenario, trace or plugin controls */
  inject?: string;
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function scalePhase(p: PhaseDocument, f: number): void {
  for (const k of Object.keys(p.counters)) p.counters[k] = Math.round(p.counters[k]! * f);
  p.cycles = Math.round(p.cycles * f);
}

function renameKeys<T>(o: Record<string, T>, rename: (k: string) => string): Record<string, T> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [rename(k), v]));
}

function injectRun(r: RunDocument, s: string): void {
  r.scenario = `${r.scenario}${s}`;
  r.phases = renameKeys(r.phases, (k) => (k === 'read' ? `read${s}` : k));
  for (const p of [...Object.values(r.phases), r.total]) {
    p.counters = renameKeys(p.counters, (k) => (k === 'pgfault' ? `pgfault${s}` : k));
  }
  r.system.policies = [...r.system.policies, `policy${s}`];
  r.system.options = { ...r.system.options, note: s };
}

export function makeCompare(opts: FixtureOptions = {}): CompareDocument {
  const base = loadFixture();
  const seeds = opts.seeds ?? [1];
  const picked =
    opts.sweep === false
      ? base.configs
          .filter((c) => c.vars.rounds === '1000')
          .map((c) => ({ ...clone(c), label: `${c.kernel}/${c.hardware}`, vars: {} }))
      : base.configs.map(clone);
  const configs: CompareConfig[] = [];
  for (const c of picked) {
    seeds.forEach((seed, i) => {
      const copy = clone(c);
      copy.seed = seed;
      copy.result.seed = seed;
      if (opts.jitter) {
        const f = 1 + opts.jitter * (i - (seeds.length - 1) / 2);
        for (const p of [...Object.values(copy.result.phases), copy.result.total]) scalePhase(p, f);
      }
      copy.label = opts.label ? opts.label(c, seed) : c.label;
      if (opts.inject !== undefined) {
        copy.label = `${copy.label}${opts.inject}`;
        copy.policies = [`policy${opts.inject}`];
        copy.vars = renameKeys(
          Object.fromEntries(Object.entries(copy.vars).map(([k, v]) => [k, `${v}`])),
          (k) => `${k}${opts.inject}`,
        );
        injectRun(copy.result, opts.inject);
      }
      configs.push(copy);
    });
  }
  return { baseline: configs[0]!.label, configs };
}
