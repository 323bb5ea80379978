import type { TraceHeader, TraceRecord } from '../records.js';

/** An imported trace: read like an mmsim trace (the TraceReader shape of open.ts). */
export interface ImportedTrace extends AsyncIterable<TraceRecord> {
  readonly file: string;
  readonly header: TraceHeader;
}
