export { escapeHtml, jsonForScript } from './escape.js';
export {
  assertCompareDocument,
  buildModel,
  type CompareTable,
  type ConfigGroup,
  compareTable,
  formatDiff,
  formatNumber,
  formatRatio,
  type ModelOptions,
  type ReportModel,
  type Stat,
  type TableCell,
  type TableRow,
  type VarAxis,
} from './model.js';
export { type CompiledPlot, compilePlots, type ReportOptions, renderReport } from './report.js';
export type {
  CompareConfig,
  CompareDocument,
  PhaseDocument,
  PolicySpec,
  RunDocument,
  RunSystem,
} from './types.js';
