/**
 * @mmsim/check/compose: composing a system from a scenario's `system` (presets, hardware,
 * policies, module loading, error text) without the checker. `mmsim run` and `mmsim compare`
 * import this entry point so that they do not load fast-check, the reference model and the
 * fuzzer (the `mmsim check` half of the package root).
 */
export {
  composeSystem,
  assembleSystem,
  type ComposeOptions,
  type AssembleOptions,
  type PolicySource,
} from './compose.js';
export { dropDuplicates, canonicalJson, type Duplicate, type SourcedPlugin } from './duplicates.js';
export { kernelConfig, thpConfig, type ConfigOverrides } from './config.js';
export {
  createHardware,
  hardwareFactory,
  FLAT_HARDWARE,
  DEFAULT_HARDWARE,
  DEFAULT_CPUS,
  type BuiltinHardware,
  type HardwareRequest,
} from './hardware.js';
export {
  loadPolicy,
  pluginsFromModule,
  pluginProblem,
  pluginName,
  guardApply,
  isPlugin,
  type PluginRequest,
} from './plugins.js';
export {
  importNative,
  isPathSpecifier,
  isClass,
  ModuleLoadError,
  settledModule,
  type ModuleImporter,
  type ModuleNamespace,
} from './modules.js';
export { systemError, errorText } from './errors.js';
export { isThenable, settleOrStall } from './stalled.js';
export { parsePolicySpec, PolicySpecError } from '../policy-spec.js';
