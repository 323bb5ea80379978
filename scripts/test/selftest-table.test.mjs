// README.md's selftest table: its case columns are what the scope files and the test titles say
// (the passing column comes from `node scripts/selftest-table.mjs`, which runs the tests; the
// ported tests themselves run in this suite, so a failing one fails here too).
import { describe, expect, it } from 'vitest';
import { currentBlock, rows, table } from '../selftest-table.mjs';

// the columns a run fills in: passing (4th) and the number of tests (7th: a loop's titles count once statically)
const passingColumn = (block) =>
  block
    .split('\n')
    .map((l) => {
      if (!l.startsWith('| `') && !l.startsWith('| **')) return l;
      const c = l.split('|');
      c[4] = ' ? ';
      c[7] = c[7].replace(/\[\d+\]/, '[?]');
      return c.join('|');
    })
    .join('\n');

describe('README.md selftest table', () => {
  it('matches the scope files and the test titles', () => {
    const block = currentBlock();
    expect(block).not.toBeNull();
    expect(passingColumn(block)).toBe(passingColumn(table(rows(null), false)));
  });
  it('reports every ported case passing', () => {
    for (const line of currentBlock()
      .split('\n')
      .filter((l) => l.startsWith('| `'))) {
      const cells = line.split('|').map((c) => c.trim());
      expect(cells[4], line).toBe(cells[3]);
    }
  });
});
