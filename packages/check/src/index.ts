/**
 * @mmsim/check: invariants, a reference model and property-based fuzzing for any mmsim
 * policy composition.
 */
export {
  checkInvariants,
  takeCensus,
  folioHeads,
  batchRefs,
  ViolationList,
  type Violation,
  type Census,
} from './invariants/index.js';
export {
  invariantsPlugin,
  invariantViolationOf,
  InvariantViolationError,
  type InvariantsPlugin,
  type InvariantsPluginOptions,
} from './plugins/invariants.js';
export {
  ReferenceModel,
  type PageAttrs,
  type PinExpectation,
  type PinPage,
  type ProcModel,
} from './model/reference.js';
export { StepDriver, type DriverOptions, type Region } from './driver/driver.js';
export { StrictTlbHardware, createHardware as createStrictTlbHardware } from './hardware/strict-tlb.js';
export { largeFoliosPolicy, type LargeFoliosOptions } from './policies/large-folios.js';
export { unsafeLargeCowPolicy, type UnsafeLargeCowOptions } from './policies/unsafe-large-cow.js';
export { noFlushCowPolicy } from './policies/no-flush-cow.js';
export {
  intentArbitrary,
  fuzzInputArbitrary,
  DEFAULT_WEIGHTS,
  type Intent,
  type FuzzInput,
  type IntentWeights,
  type RunVariant,
} from './fuzz/intents.js';
export { runFuzzInput, type RunOutcome, type ViolationFilter } from './fuzz/run.js';
export {
  buildSystem,
  systemSpec,
  builtinHardware,
  builtinPolicy,
  MODULE_FILES,
  type Composition,
  type HardwareChoice,
  type PolicyChoice,
} from './system.js';
export { ensureOutDir, failingScenario, OutDirError, writeFinding, writeScenario } from './scenario-file.js';
export {
  checkComposition,
  checkCompositionAsync,
  resolveComposition,
  formatCheckResult,
  baselineOf,
  type Baseline,
  type CheckOptions,
  type CheckResult,
  type CheckViolation,
  type CheckControl,
} from './check.js';
export { TapWatch, formatDecision, blameOf, SLOTS, type Decision } from './watch/taps.js';
export { type CheckChannel, type CheckMessage } from './watch/channel.js';
export { superviseCheck, type SuperviseOptions } from './watch/supervise.js';
export { assertCompositionSound, assertPolicySound, CompositionUnsoundError, type SoundnessOptions } from './assert.js';
export {
  checkCommand,
  parseCheckArgs,
  checkJson,
  interruptedLine,
  CHECK_USAGE,
  DEFAULT_TAP_TIMEOUT_MS,
  type CheckCommandOptions,
  type CheckIO,
} from './cli.js';
export { parsePolicySpec, PolicySpecError } from './policy-spec.js';
export { soak, type SoakOptions, type SoakResult } from './soak.js';
export { replayScenario, systemOf, type ReplayResult, type LoadHardware } from './replay.js';
export {
  composeSystem,
  assembleSystem,
  type ComposeOptions,
  type AssembleOptions,
  type PolicySource,
} from './compose/compose.js';
export { dropDuplicates, canonicalJson, type Duplicate, type SourcedPlugin } from './compose/duplicates.js';
export { kernelConfig, thpConfig, type ConfigOverrides } from './compose/config.js';
export {
  createHardware,
  hardwareFactory,
  FLAT_HARDWARE,
  DEFAULT_HARDWARE,
  DEFAULT_CPUS,
  type BuiltinHardware,
  type HardwareRequest,
} from './compose/hardware.js';
export {
  loadPolicy,
  pluginsFromModule,
  pluginProblem,
  pluginName,
  guardApply,
  isPlugin,
  type PluginRequest,
} from './compose/plugins.js';
export {
  importNative,
  isPathSpecifier,
  isClass,
  ModuleLoadError,
  settledModule,
  type ModuleImporter,
  type ModuleNamespace,
} from './compose/modules.js';
export { systemError, errorText } from './compose/errors.js';
export { isThenable, settleOrStall } from './compose/stalled.js';
export { HISTORICAL_PRESETS, isHistorical } from './known.js';
