/**
 * create-mmsim-policy: `npm create mmsim-policy NAME` scaffolds a publishable mmsim policy
 * package. The pieces, as a library: name validation, the hook catalogue, the manifest, the
 * writer and the command.
 */
export { createPolicy, EXIT, type CreateIO } from './cli.js';
export { parsePackageName, identifierOf, counterPrefixOf, type PackageName } from './name.js';
export { knownHooks, selectHooks, tapSource, counterName, DEFAULT_HOOK, type HookInfo } from './hooks.js';
export { policyManifest, POLICY_KEYWORD, type ManifestOptions } from './manifest.js';
export { scaffold, render, templateVars, targetProblem, TEMPLATES_DIR, type ScaffoldOptions } from './scaffold.js';
export { pinnedVersions, pin, apiRange, ownVersion, PINNED, PACKAGE_DIR, type Pinned } from './versions.js';
export { SCENARIO_CALLS, SCAFFOLD_KERNEL } from './calls.js';
