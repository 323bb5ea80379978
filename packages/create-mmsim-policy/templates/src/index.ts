import { definePlugin, type MmPlugin } from '@mmsim/core';

/**
 * {{NAME}}: an mmsim policy plugin (policy API {{API}}). It taps {{HOOK_LIST}}.
 *
 * Each tap counts its calls in a counter of its own and leaves the decision to the kernel
 * preset (a bail tap returns undefined, a waterfall tap returns the value it got). Replace the
 * bodies with your rule: the hooks, their contexts and the answers they take are in mmsim's
 * docs/policy-api.md and `npx mmsim list hooks`.
 *
 * Load it from a scenario by package name (`system.policies: [{ name: '{{NAME}}' }]`) or with
 * `mmsim run FILE --policy {{NAME}}`; the default export is the factory mmsim calls with the
 * scenario's `options`.
 */
export default function {{FN}}(): MmPlugin {
  return definePlugin({
    name: '{{PLUGIN}}',
    api: '{{API}}',
    apply({ hooks, stats }) {
{{TAPS}}
    },
  });
}
