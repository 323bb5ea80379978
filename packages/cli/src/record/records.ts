/**
 * The mmsim trace records as JSON Lines (docs/recording.md; the schema shared with
 * @mmsim/program-trace). `t` is the kind, `pid` the process, `tid` the thread (default pid).
 */
export type { Prot, TraceRecord } from '@mmsim/program-trace';
import type { TraceRecord } from '@mmsim/program-trace';

export interface TraceHeader {
  mmtrace: 1;
  cmd: string[];
  kernel: string;
  pageSize: number;
  date: string;
  recorder: string;
  notes: string[];
}

export type RecordSink = (r: TraceRecord) => void;
