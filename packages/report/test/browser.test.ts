/// <reference lib="dom" />
/**
 * Opens generated reports in headless Chromium (Debian's `chromium`, driven by playwright-core):
 * no console or page errors, every plot drawn with marks, no network request, the XSS label
 * inert, and a screenshot in test/out/report.png (gitignored). A missing Chromium fails the test:
 * CI installs it (`.ci/run`); locally `apt-get install -y chromium`.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CompareDocument, renderReport } from '../src/index.js';
import { makeCompare, XSS } from './fixture.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = fileURLToPath(new URL('./out/', import.meta.url));

let browser: Browser | undefined;
let missing: Error | undefined;
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'mmsim-report-'));
  if (!existsSync(CHROMIUM)) {
    // every test fails with this (a beforeAll error would report the tests as skipped)
    missing = new Error(
      `Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH. ` +
        'This test does not skip: the report must be checked in a browser.',
    );
    return;
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  errors: string[];
  dialogs: string[];
  requests: string[];
  status: { total: number; rendered: number; failed: string[]; done: boolean };
  marks: Record<string, number>;
}

/** Writes the report, opens it, waits for every plot, and collects what went wrong. */
async function open(doc: CompareDocument, name: string): Promise<Opened> {
  const file = join(tmp, `${name}.html`);
  writeFileSync(file, renderReport(doc), 'utf8');
  if (missing || !browser) throw missing ?? new Error('Chromium did not start');
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  const dialogs: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => (window as unknown as { mmsimReport?: { done: boolean } }).mmsimReport?.done, null, {
    timeout: 20_000,
  });
  const status = await page.evaluate(() => {
    const s = (window as unknown as { mmsimReport: Opened['status'] }).mmsimReport;
    return { total: s.total, rendered: s.rendered, failed: s.failed, done: s.done };
  });
  const marks = await page.evaluate(() => {
    const out: Record<string, number> = {};
    for (const el of Array.from(document.querySelectorAll('section.plot'))) {
      // data marks: children of the SVG groups Vega gives the role "mark" (class "mark-<type> role-mark")
      out[el.id] = el.querySelectorAll('svg g.role-mark > path, svg g.role-mark > line, svg g.role-mark > text').length;
    }
    return out;
  });
  return { page, errors, dialogs, requests, status, marks };
}

describe('the report in Chromium', () => {
  it('renders every plot of a sweep with seeds, without errors or network', async () => {
    const doc = makeCompare({ seeds: [1, 2, 3], jitter: 0.04 });
    const o = await open(doc, 'report');
    expect(o.errors).toEqual([]);
    expect(o.requests).toEqual([]);
    expect(o.status).toEqual({ total: 3, rendered: 3, failed: [], done: true });
    expect(Object.keys(o.marks)).toEqual(['plot-counters', 'plot-cycles', 'plot-sweep-0']);
    for (const [id, n] of Object.entries(o.marks)) expect(n, id).toBeGreaterThan(0);
    // per plot, the mark types we drew: bars, error bars (rules), lines and points
    const kinds = await o.page.evaluate(() =>
      Array.from(document.querySelectorAll('section.plot')).map((s) =>
        [
          ...new Set(
            Array.from(s.querySelectorAll('svg g.role-mark')).flatMap((g) =>
              Array.from(g.classList).filter((c) => c.startsWith('mark-')),
            ),
          ),
        ].sort(),
      ),
    );
    expect(kinds[0]).toEqual(['mark-rect', 'mark-rule', 'mark-text']);
    expect(kinds[1]).toEqual(['mark-rect']);
    expect(kinds[2]).toEqual(['mark-line', 'mark-rect', 'mark-rule', 'mark-symbol']);

    // the counter selector: one option per counter, and picking another one redraws
    const select = o.page.locator('#plot-counters select');
    const options = await select.locator('option').allTextContents();
    expect(options.slice(0, 3)).toEqual(['pgfault', 'pgmajfault', 'pgreuse']);
    const before = await o.page.locator('#plot-counters svg g.mark-text text').allTextContents();
    await select.selectOption({ label: 'pswpin' });
    await o.page.waitForFunction(
      (prev) =>
        Array.from(document.querySelectorAll('#plot-counters svg g.mark-text text'))
          .map((t) => t.textContent)
          .join('|') !== prev,
      before.join('|'),
    );
    const table = await o.page.locator('#table table').textContent();
    expect(table).toContain('linux-5.9/x86 rounds=1000');
    expect(o.errors).toEqual([]);

    mkdirSync(OUT, { recursive: true });
    await select.selectOption({ label: 'pgfault' });
    await o.page.screenshot({ path: join(OUT, 'report.png'), fullPage: true });
    await o.page.screenshot({ path: join(OUT, 'report-top.png') });
    await o.page.close();
  });

  it('keeps a hostile label, counter, phase and variable name inert', async () => {
    const doc = makeCompare({ seeds: [1, 2], inject: XSS });
    const o = await open(doc, 'xss');
    expect(o.dialogs).toEqual([]);
    expect(o.errors).toEqual([]);
    expect(o.requests).toEqual([]);
    expect(o.status.rendered).toBe(o.status.total);
    for (const [id, n] of Object.entries(o.marks)) expect(n, id).toBeGreaterThan(0);
    const dom = await o.page.evaluate(() => ({
      img: document.querySelectorAll('img').length,
      scripts: document.querySelectorAll('script').length,
      handlers: Array.from(document.querySelectorAll('*')).filter((e) =>
        Array.from(e.attributes).some((a) => a.name.startsWith('on')),
      ).length,
      bodyChildren: Array.from(document.body.children).map((e) => e.tagName.toLowerCase()),
      title: document.title,
      tableText: document.querySelector('#table')!.textContent,
      svgText: Array.from(document.querySelectorAll('svg text'))
        .map((t) => t.textContent)
        .join('\n'),
      options: Array.from(document.querySelectorAll('select option')).map((e) => e.textContent),
    }));
    expect(dom.img).toBe(0);
    expect(dom.scripts).toBe(3);
    expect(dom.handlers).toBe(0);
    expect(dom.bodyChildren).toEqual(['header', 'main', 'script', 'script', 'script']);
    // shown as text, exactly
    expect(dom.title).toContain('forceswap</script>');
    expect(dom.tableText).toContain(`linux-5.8/x86 rounds=250${XSS}`);
    expect(dom.tableText).toContain(`pgfault${XSS}`);
    expect(dom.tableText).toContain(`cycles: read${XSS}`);
    expect(dom.options).toContain(`pgfault${XSS}`);
    expect(dom.svgText).toContain(`rounds${XSS}`);
    await o.page.close();
  });
});
