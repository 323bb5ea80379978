#!/usr/bin/env node
// CI smoke test of the built packages as a library user sees them: no `import 'reflect-metadata'`
// of our own, plain ESM imports by package name, one scenario run per hardware model.
import { createSystem, FlatHardware, runScenario, ScenarioSchema } from '@mmsim/core';
import { resolvePreset } from '@mmsim/presets';
import { createHardware as x86 } from '@mmsim/hw-x86';
import { createHardware as arm64 } from '@mmsim/hw-arm64';

const sc = ScenarioSchema.parse({
  name: 'smoke',
  steps: [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'buf', size: '1MiB' },
    { op: 'touch', pid: 'p', region: 'buf', access: 'write', value: 7 },
    { op: 'fork', pid: 'p', child: 'c' },
    { op: 'access', pid: 'c', region: 'buf', access: 'read', expect: 7 },
  ],
});
const { config, plugins } = resolvePreset('linux-6.18');
for (const hardware of [new FlatHardware(2), x86({ cpus: 2 }), arm64({ cpus: 2 })]) {
  const r = runScenario(createSystem({ hardware, presetPlugins: plugins, config }), sc);
  if (r.total.counters.pgfault !== 256 || r.checks.failed !== 0) {
    console.error(`smoke: ${hardware.name}: pgfault ${r.total.counters.pgfault}, checks ${JSON.stringify(r.checks)}`);
    process.exit(1);
  }
}
console.log('smoke: the built packages import and run as a library (flat, x86, arm64)');
