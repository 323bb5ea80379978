/** The soak, through vitest (no build needed): MMSIM_SOAK=1 [MMSIM_SOAK_RUNS=N] npx vitest run packages/check/test/soak.test.ts */
import { expect, it } from 'vitest';
import { soak } from '../src/index.js';

it.skipIf(!process.env.MMSIM_SOAK)('soak: every current preset', { timeout: 3_600_000 }, () => {
  const r = soak({
    runs: Number(process.env.MMSIM_SOAK_RUNS ?? 5000),
    maxSteps: 60,
    outDir: process.env.MMSIM_SOAK_OUT ?? 'check-soak',
  });
  expect(r.violations).toBe(0);
});
