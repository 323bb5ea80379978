import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, mmsim } from './helpers.js';

describe('mmsim compare --report', () => {
  it('writes one self-contained HTML file with the configurations, the plots and the data', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mmsim-report-'));
    const out = path.join(dir, 'r.html');
    const r = await mmsim(
      'compare',
      fixture('compare/vars.yaml'),
      '--kernel',
      'linux-5.8',
      '--kernel',
      'linux-6.18',
      '--var',
      'SIZE=16KiB,32KiB',
      '--jobs',
      '1',
      '--report',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!doctype html>') || html.startsWith('<!DOCTYPE html>')).toBe(true);
    for (const label of ['linux-5.8/x86/SIZE=16KiB', 'linux-6.18/x86/SIZE=32KiB']) expect(html).toContain(label);
    // offline: no script or stylesheet from the network
    expect(html).not.toMatch(/<script[^>]+src=["']https?:/i);
    expect(html).not.toMatch(/<link[^>]+href=["']https?:/i);
  });

  it('an unwritable --report path is a flag error (exit 2)', async () => {
    const r = await mmsim(
      'compare',
      fixture('compare/vars.yaml'),
      '--var',
      'SIZE=16KiB',
      '--jobs',
      '1',
      '--report',
      '/no/such/dir/r.html',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--report /no/such/dir/r.html: cannot write');
  });
});
