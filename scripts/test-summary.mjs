#!/usr/bin/env node
// Prints the plain "N passed, N failed" line CI reads, from vitest's JSON report.
import { readFileSync, existsSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-results.json';
if (!existsSync(file)) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const passed = r.numPassedTests ?? 0;
// a suite that failed to load counts as a failure even if it ran no test
const failed =
  (r.numFailedTests ?? 0) +
  (r.numFailedTestSuites ?? 0) -
  (r.testResults ?? []).filter(
    (t) => t.status === 'failed' && (t.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(
  `${passed} passed, ${Math.max(failed, r.numFailedTests ?? 0)} failed${skipped ? `, ${skipped} skipped` : ''}`,
);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
