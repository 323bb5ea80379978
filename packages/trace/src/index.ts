/**
 * @mmsim/trace: record an mmsim run as a Chrome trace-event JSON timeline for ui.perfetto.dev
 * and chrome://tracing (`mmsim run --trace-out FILE.json`; docs/scenario-format.md).
 */
export { recordTrace, MACHINE_PID, cpuTid, broadcastTid, type TraceOptions, type TraceRecorder } from './recorder.js';
export type { ChromeTrace, TraceEvent, TraceMetadata } from './format.js';
export { traceProblems } from './validate.js';
export { writeTraceFile } from './write.js';
