/**
 * Extra policy plugins listed in `system.policies`, loaded with the CLI's module loader
 * (TypeScript through jiti). How a module's exports become plugins is @mmsim/check's
 * pluginsFromModule (the composer's), so `mmsim run`, `mmsim check` and replays agree.
 */
import {
  guardApply,
  loadPolicy as composerLoadPolicy,
  pluginsFromModule,
  type PluginRequest,
} from '@mmsim/check/compose';
import type { AnyPlugin } from '@mmsim/core';
import { importModule } from './modules.js';

export { guardApply, pluginsFromModule, type PluginRequest };

/** Load one `system.policies[i]` entry. Throws ScenarioError (field `system.policies[i]`). */
export function loadPolicy(req: PluginRequest): Promise<AnyPlugin[]> {
  return composerLoadPolicy({ importModule, ...req });
}
