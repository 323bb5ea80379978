/**
 * The `mmsim compare --json` document (contract: docs/scenario-format "mmsim compare") and the
 * `mmsim run --json` document each configuration carries. Only the fields the contract fixes are
 * required; everything else is optional or open, so documents from newer releases still type-check.
 */

/** A policy as compare lists it: a package name / spec string, or an object form. */
export type PolicySpec = string | { name?: string; options?: unknown; [key: string]: unknown };

/** One phase (or the run's total): counters, the hardware model's cycles, meminfo at its end. */
export interface PhaseDocument {
  counters: Record<string, number>;
  cycles: number;
  /** the user-mode part of `cycles` (cycles:u; runs since user cycles were priced) */
  userCycles?: number;
  /** the kernel part of `cycles` (cycles:k) */
  kernelCycles?: number;
  meminfo: Record<string, unknown>;
  steps?: number;
  [key: string]: unknown;
}

/** `system` of a run document. */
export interface RunSystem {
  hardware: string;
  kernel: string;
  policies: PolicySpec[];
  options?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The `mmsim run --json` document. */
export interface RunDocument {
  scenario: string;
  system: RunSystem;
  seed?: number;
  phases: Record<string, PhaseDocument>;
  total: PhaseDocument;
  checks?: { passed: number; failed: number; failures: unknown[] };
  /** everything needed to re-run (contract v2); shown in the report when present */
  config?: Record<string, unknown>;
  decisions?: Record<string, unknown>;
  [key: string]: unknown;
}

/** One configuration of a compare: what was run and its run document. */
export interface CompareConfig {
  label: string;
  kernel: string;
  hardware: string;
  policies: PolicySpec[];
  /** `--var NAME=V1,V2` values of this configuration (strings as given, or numbers) */
  vars: Record<string, string | number>;
  seed: number;
  result: RunDocument;
}

/** The `mmsim compare --json` document. */
export interface CompareDocument {
  /** label of the baseline configuration */
  baseline: string;
  configs: CompareConfig[];
}
