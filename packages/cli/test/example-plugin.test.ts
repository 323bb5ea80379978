import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mmsim } from './helpers.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const rel = (f: string) => path.relative(process.cwd(), path.join(repo, f));
const example = rel('examples/forceswap/forceswap-eager-drain.yaml');

describe('the example policy plugin, loaded by package name (examples/policy-eager-drain)', () => {
  it('on linux-5.9 forceswap: drains before each write fault, so the page is reused and one remote flush per round goes', async () => {
    const withPlugin = await mmsim('run', example, '--json');
    expect(withPlugin.code, withPlugin.stderr).toBe(0);
    const r = JSON.parse(withPlugin.stdout);
    expect(r.system.policies).toContain('eager-drain');
    // 100,000 rounds; the first CoWs the zero page, the other 99,999 write to the swapped-in page
    expect(r.total.counters).toMatchObject({
      eager_drain: 99_999,
      pgreuse: 99_999,
      nr_tlb_remote_flush: 299_997,
      cow_zero: 1,
    });
    expect(r.total.counters.cow_copy).toBeUndefined();
    // the same scenario without the plugin: v5.9 copies the page parked in the LRU batch every
    // round, with one more remote flush per round
    const base = await mmsim('run', rel('examples/forceswap/forceswap.yaml'), '--json', '--kernel', 'linux-5.9');
    const plain = JSON.parse(base.stdout).total.counters;
    expect(plain).toMatchObject({ cow_copy: 99_999, nr_tlb_remote_flush: 399_996 });
    expect(plain.pgreuse).toBeUndefined();
  }, 60_000);
});
