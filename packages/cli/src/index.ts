/**
 * @mmsim/cli: the `mmsim` command, and its pieces as a library (load a scenario file, compose
 * its system, run it, format the result).
 */
export {
  loadScenarioFile,
  readScenario,
  validateScenario,
  locateError,
  SCENARIO_EXTENSIONS,
  type LoadedScenario,
} from './load.js';
export { resolveSystem, kernelConfig, thpConfig, type ResolveOptions } from './resolve.js';
export { createHardware, BUILTIN_HARDWARE, DEFAULT_HARDWARE, DEFAULT_CPUS, type HardwareRequest } from './hardware.js';
export { loadPolicy, pluginsFromModule, type PluginRequest } from './plugins.js';
export { runScenarioFile, type RunFileOptions } from './run.js';
export { formatResult, type FormatOptions } from './format.js';
export { listing, formatListing, type Listing } from './list.js';
export { runCli, reportError, EXIT, type CliIO } from './cli.js';
export { fileError, systemError, type SourceLocation, type LocatedScenarioError } from './errors.js';
export { runFile, composeRequest, type RunDocument, type RunOutput } from './run.js';
export { configToArgs, configToRequest, type RunConfig, type RunInvocation } from './config.js';
export { prepareScenario, type RunRequest, type PreparedScenario } from './prepare.js';
export { parseSetFlag, applySet, parsePolicyFlag, type SetFlag } from './overrides.js';
export { parseVarFlag, substituteVars, placeholders, type VarAxis } from './vars.js';
export { FlagError } from './flag-error.js';
export { compareCommand, type CompareDocument, type CompareEntry, type CompareFlags } from './compare/command.js';
export { planCompare, type ComparePlan, type Configuration } from './compare/plan.js';
