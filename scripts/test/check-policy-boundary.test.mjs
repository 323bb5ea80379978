import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanSource } from '../check-policy-boundary.mjs';

const SCRIPT = fileURLToPath(new URL('../check-policy-boundary.mjs', import.meta.url));

const BAD = `import { PG, type Kernel, type Vmf } from '@mmsim/core';
import type {
  MmPlugin,
  FolioTable as FT,
} from '@mmsim/core';
import * as core from '@mmsim/core';
type P = import('@mmsim/core').PhysMem;
let s: core.SwapDevice;
export function f(sys) {
  return sys.kernel.folios; // reaching in
}
`;

const GOOD = `import { VM, definePlugin, type MmPlugin, type PolicyContext, type FaultContext } from '@mmsim/core';
import { Kernel } from './my-own-kernel.js'; // not from @mmsim/core
// sys.kernel in a comment does not count
export const kernelName = 'kernel';
export function f(ctx: PolicyContext) { return ctx.hooks; }
`;

describe('check-policy-boundary', () => {
  it('finds forbidden core imports and .kernel access, with lines', () => {
    const v = scanSource(BAD, 'bad.ts');
    expect(v.map((x) => `${x.line}: ${x.message}`)).toEqual([
      "1: imports PG from '@mmsim/core'",
      "1: imports Kernel from '@mmsim/core'",
      "1: imports Vmf from '@mmsim/core'",
      "4: imports FolioTable from '@mmsim/core'",
      "7: imports PhysMem from '@mmsim/core'",
      "8: uses core.SwapDevice from '@mmsim/core'",
      '10: accesses .kernel',
    ]);
  });

  it('accepts the public policy API', () => {
    expect(scanSource(GOOD, 'good.ts')).toEqual([]);
  });

  it('exits 1 in strict mode and 0 with --report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'boundary-'));
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'bad.ts'), BAD);
    let status = 0;
    let out = '';
    try {
      execFileSync(process.execPath, [SCRIPT, join(dir, 'src')], { cwd: dir, encoding: 'utf8' });
    } catch (e) {
      status = e.status;
      out = e.stdout;
    }
    expect(status).toBe(1);
    expect(out).toContain('src/bad.ts:1: imports Kernel');
    const report = execFileSync(process.execPath, [SCRIPT, '--report', join(dir, 'src')], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(report).toContain('7 violation(s)');
  });
});
