/**
 * The HTML report in a real browser: Debian's chromium, headless, driven over the DevTools protocol on a
 * pipe (no WebSocket, no browser download). It loads the report that `dvs diff --html` wrote and checks
 * what a reviewer would see: no console error (a Content-Security-Policy violation is one), no script
 * ran, the histograms are there and have a size, and a screenshot can be taken.
 * CI installs chromium (.ci/run); without it the test fails on CI and is skipped elsewhere.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT, cleanupTempDirs, dvs, tempDir } from '../helpers.js';
import { reportRepo } from './content-report-fixture.js';

afterAll(cleanupTempDirs);

function findChromium(): string | undefined {
  for (const name of [process.env.CHROMIUM, 'chromium', 'chromium-browser'].filter(Boolean) as string[]) {
    const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
    if (r.status === 0 && /chromium/i.test(r.stdout)) return name;
  }
  return undefined;
}

const chromium = findChromium();

/** A DevTools-protocol client over chromium's --remote-debugging-pipe (fd 3 in, fd 4 out, NUL-separated JSON). */
class Cdp {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private buffer = '';
  readonly events: { method: string; params: any; sessionId?: string }[] = [];
  private waiters: { method: string; resolve: (p: any) => void; reject: (e: Error) => void }[] = [];

  constructor(private readonly child: ChildProcess) {
    // A browser that exits or cannot start fails the pending calls at once, not at the test's timeout.
    const fail = (why: string) => {
      for (const p of [...this.pending.values(), ...this.waiters]) p.reject(new Error(`chromium ${why}`));
      this.pending.clear();
      this.waiters = [];
    };
    child.on('exit', (code, signal) => fail(`exited (${signal ?? code})`));
    child.on('error', (err) => fail(`could not start: ${err.message}`));
    const out = child.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\0')) >= 0) {
        const message = JSON.parse(this.buffer.slice(0, end));
        this.buffer = this.buffer.slice(end + 1);
        this.dispatch(message);
      }
    });
  }

  private dispatch(m: any): void {
    if (m.id !== undefined) {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error) p?.reject(new Error(`${m.error.message} (${m.error.code})`));
      else p?.resolve(m.result);
      return;
    }
    this.events.push(m);
    for (const w of this.waiters.filter((x) => x.method === m.method)) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(m.params);
    }
  }

  send(method: string, params: object = {}, sessionId?: string): Promise<any> {
    const id = this.nextId++;
    (this.child.stdio[3] as Writable).write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  waitFor(method: string): Promise<any> {
    return new Promise((resolve, reject) => this.waiters.push({ method, resolve, reject }));
  }
}

/** One headless chromium for the whole test (starting it is the slow part on a busy machine). */
async function startBrowser(): Promise<{ inspect: (file: string, width: number, height: number) => Promise<Inspected>; close: () => Promise<void> }> {
  const profile = tempDir('dvs-chromium-');
  const child = spawn(
    chromium!,
    ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'],
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
  );
  // A pipe closed by the exiting browser must not become an uncaught error of the test file.
  for (const fd of [3, 4]) (child.stdio[fd] as Readable | Writable).on('error', () => undefined);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cdp = new Cdp(child);
  // Wait for the browser to be gone before the temp dirs (its profile among them) are removed.
  const close = async () => {
    await Promise.race([cdp.send('Browser.close').catch(() => undefined), exited]);
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.kill();
    await exited;
    clearTimeout(killer);
  };
  return { inspect: (file, width, height) => inspect(cdp, file, width, height), close };
}

interface Inspected {
  errors: string[];
  page: any;
  png: Buffer;
}

/** Load `file` in a new tab; return what its console said, what the page reports about itself, and a PNG. */
async function inspect(cdp: Cdp, file: string, width: number, height: number): Promise<Inspected> {
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  const s = (method: string, params: object = {}) => cdp.send(method, params, sessionId);
  await s('Runtime.enable');
  await s('Log.enable');
  await s('Page.enable');
  await s('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
  const loaded = cdp.waitFor('Page.loadEventFired');
  await s('Page.navigate', { url: pathToFileURL(file).href });
  await loaded;
  const evaluated = await s('Runtime.evaluate', {
    returnByValue: true,
    expression: `JSON.stringify({
      xss: window.__xss ?? null,
      scripts: document.scripts.length,
      title: document.title,
      histograms: [...document.querySelectorAll('svg.histogram')].map((svg) => {
        const box = svg.getBoundingClientRect();
        const bars = [...svg.querySelectorAll('rect.before, rect.after')].map((r) => r.getBoundingClientRect().height);
        return { column: svg.closest('figure').dataset.column, width: box.width, height: box.height, bars: bars.length, tallest: Math.max(...bars) };
      }),
      domainBars: document.querySelectorAll('figure[data-column="domain"] svg.topvalues rect.after').length,
    })`,
  });
  const { data } = await s('Page.captureScreenshot', { format: 'png', captureBeyondViewport: false });
  const errors = cdp.events
    .filter((e) => e.sessionId === sessionId)
    .filter(
      (e) =>
        e.method === 'Runtime.exceptionThrown' ||
        (e.method === 'Runtime.consoleAPICalled' && ['error', 'assert'].includes(e.params.type)) ||
        (e.method === 'Log.entryAdded' && e.params.entry.level === 'error'),
    )
    .map((e) => JSON.stringify(e.params));
  await cdp.send('Target.closeTarget', { targetId });
  return { errors, page: JSON.parse(evaluated.result.value), png: Buffer.from(data, 'base64') };
}

describe.skipIf(!chromium && !process.env.CI)('the HTML report in a browser', () => {
  it('renders with no console error, runs no script from the data, and draws sized histograms', async () => {
    if (!chromium) throw new Error('chromium is not installed: .ci/run installs it (test/servers/chromium/install.sh)');
    const repo = await reportRepo();
    const r = await dvs(repo, ['diff', '--key', 'id', '--rows', '3', '--html', 'report.html']);
    expect(r.code, r.stderr).toBe(0);
    const browser = await startBrowser();
    try {
      const { errors, page, png } = await browser.inspect(join(repo, 'report.html'), 1000, 1300);
      expect(errors).toEqual([]);
      expect(page.xss).toBeNull();
      expect(page.scripts).toBe(0);
      expect(page.title).toMatch(/^dvs diff: HEAD \([0-9a-f]{7}\) → workspace$/);
      expect(page.histograms.map((h: any) => h.column)).toEqual(['score', 'id']);
      for (const h of page.histograms) {
        expect(h).toMatchObject({ width: 360, height: 120 });
        expect(h.bars).toBeGreaterThan(4);
        expect(h.tallest).toBeGreaterThan(50);
      }
      expect(page.domainBars).toBe(4);
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(png.length).toBeGreaterThan(10_000);
      // DVS_SCREENSHOT=1 refreshes the picture in the README (docs/content-report.png).
      if (process.env.DVS_SCREENSHOT) {
        mkdirSync(join(PROJECT, 'docs'), { recursive: true });
        writeFileSync(join(PROJECT, 'docs', 'content-report.png'), png);
      }

      // The check can fail: the same page with one cell left unescaped logs the refused script as an error.
      const html = readFileSync(join(repo, 'report.html'), 'utf8');
      const escaped = '&#60;script&#62;window.__xss=1&#60;/script&#62;';
      expect(html).toContain(escaped);
      writeFileSync(join(repo, 'tampered.html'), html.replace(escaped, '<script>window.__xss=1</script>'));
      const tampered = await browser.inspect(join(repo, 'tampered.html'), 800, 600);
      expect(tampered.errors.join('\n')).toContain('Content Security Policy');
      expect(tampered.page.xss).toBeNull();
    } finally {
      await browser.close();
    }
  }, 120_000);
});
