import { defineConfig } from 'vitest/config';

// Tests run against each package's src (export condition "@mmsim/source"), no build needed.
export default defineConfig({
  ssr: { resolve: { conditions: ['@mmsim/source'] } },
  resolve: { conditions: ['@mmsim/source'] },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/test/**/*.test.ts', 'scripts/test/**/*.test.mjs'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    setupFiles: ['./vitest.setup.ts'],
    pool: 'threads',
    testTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
  },
});
