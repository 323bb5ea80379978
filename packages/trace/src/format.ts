/**
 * The Chrome trace-event "JSON Object Format" as @mmsim/trace writes it: complete slices (X),
 * instants (i), v1 flows (s / f with bp "e"), counters (C) and metadata (M). ts and dur are µs.
 */
export interface TraceEvent {
  ph: 'X' | 'i' | 's' | 'f' | 'C' | 'M';
  name: string;
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  cat?: string;
  /** instant scope: 't' thread */
  s?: 't' | 'p' | 'g';
  /** flow id (s / f) */
  id?: number;
  /** flow binding point: 'e' = the enclosing slice */
  bp?: 'e';
  args?: Record<string, unknown>;
}

export interface TraceMetadata {
  generator: string;
  hardware: string;
  kernel: string;
  cpus: number;
  clock: { GHz: number; source: string; note: string };
  counts: { faults: number; faultSlices: number; flushRequests: number; ipis: number; flows: number };
  limits: { maxEvents: number; maxSamples: number; sampleEveryFaults: number; phaseSampleEvery: number };
  truncated: { afterUs: number; note: string } | null;
  dropped: { slices: number; instants: number; flows: number };
  counterSamples: number;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ns';
  metadata: TraceMetadata;
}
