// The browsers the web interface's test drives, behind one face:
// openPage(scheme, allowed) gives a page with the part of playwright's
// Page and Locator API the checks use (ui-pages.mjs), and records what a
// person would not want to see (console errors, page errors, failed
// requests, error statuses) and what the interface's own files weigh.
//   chromium: Debian's, through playwright-core, its own objects as they are.
//   firefox:  Debian's firefox-esr, through puppeteer-core over WebDriver
//             BiDi (playwright drives only its own patched Firefox), with
//             a small Locator of our own over puppeteer's Page.
import fs from 'node:fs';
import { waitFor } from './daemon.mjs';

export const browsers = {
  chromium: () => process.env.CHROMIUM || ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p)),
  firefox: () => process.env.FIREFOX || ['/usr/bin/firefox-esr'].find((p) => fs.existsSync(p)),
};

// Records trouble on a page, as playwright's and puppeteer's events carry
// it (their objects differ only in how a response's body is read: @body):
// @on(name, fn) subscribes; statuses and texts in @allowed are expected.
function watch(on, allowed, trouble, weight, body) {
  const ok = (text) => allowed.some((a) => text.includes(a));
  on('console', (m) => { if (m.type() === 'error' && !ok(m.text())) trouble.push(`console: ${m.text()}`); });
  on('pageerror', (e) => trouble.push(`page error: ${e.message}`));
  on('requestfailed', (r) => trouble.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  on('response', async (r) => {
    if (r.status() >= 400 && !allowed.some((a) => String(r.status()) === a)) trouble.push(`${r.status()} ${r.url()}`);
    if (new URL(r.url()).pathname.startsWith('/ui/')) weight.set(r.url(), (await body(r).catch(() => '')).length);
  });
}

async function chromium(executablePath) {
  const { chromium: pw } = await import('playwright-core');
  const browser = await pw.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
  return {
    name: 'chromium',
    version: browser.version(),
    async openPage(scheme = 'light', allowed = []) {
      const ctx = await browser.newContext({ colorScheme: scheme, viewport: { width: 1280, height: 900 } });
      const page = await ctx.newPage();
      const trouble = [];
      const weight = new Map();
      watch((ev, fn) => page.on(ev, fn), allowed, trouble, weight, (r) => r.body());
      return { page, trouble, weight, close: () => ctx.close() };
    },
    close: () => browser.close(),
  };
}

// In the page: the elements @steps lead to, in document order. Sent as
// source with each call (the page's CSP forbids eval, so it cannot be
// installed once and compiled later; what the driver sends is exempt).
function resolve(steps) {
  const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim().toLowerCase();
  const roles = { link: 'a[href]', button: 'button, input[type=submit], input[type=button], [role=button]' };
  let els = [document];
  for (const s of steps) {
    if (s.css || s.role) {
      const found = new Set();
      for (const e of els) for (const x of e.querySelectorAll(s.css ?? roles[s.role])) found.add(x);
      els = [...found];
      if (s.role && s.name) {
        els = els.filter((e) => norm(e.getAttribute('aria-label') ?? e.textContent ?? e.value).includes(norm(s.name)));
      }
    }
    if (s.hasText) els = els.filter((e) => norm(e.textContent).includes(norm(s.hasText)));
    if (s.first) els = els.slice(0, 1);
  }
  return els;
}
const visible = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';

// playwright's Locator, as far as the checks use it, over puppeteer's Page:
// lazy (resolved anew at each call), strict (one element for the calls
// on one), and waiting for its element as playwright's actions do.
class Locator {
  constructor(page, steps) { this.page = page; this.steps = steps; }
  locator(css, { hasText } = {}) { return new Locator(this.page, [...this.steps, { css, hasText }]); }
  getByRole(role, { name } = {}) { return new Locator(this.page, [...this.steps, { role, name }]); }
  first() { return new Locator(this.page, [...this.steps, { first: true }]); }
  // @fn runs on the list of elements, in the page.
  #all(fn) {
    return this.page.evaluate(`(${fn})((${resolve})(${JSON.stringify(this.steps)}), ${visible})`);
  }
  async waitFor({ state = 'visible', timeout = 30000 } = {}) {
    const want = state === 'visible' ? '(els, vis) => els.some(vis)' : '(els) => els.length > 0';
    if (!await waitFor(() => this.#all(want), timeout, { every: 50 })) {
      throw new Error(`waiting for ${JSON.stringify(this.steps)} to be ${state}: timed out after ${timeout} ms`);
    }
  }
  async #one(fn) {
    await this.waitFor({ state: 'attached' });
    const [n, v] = await this.#all(`(els, vis) => [els.length, els.length === 1 ? (${fn})(els[0], vis) : null]`);
    if (n !== 1) throw new Error(`strict mode: ${JSON.stringify(this.steps)} matches ${n} elements`);
    return v;
  }
  async #handle() {
    await this.waitFor();
    const h = await this.page.evaluateHandle(`(${resolve})(${JSON.stringify(this.steps)})[0]`);
    return h.asElement();
  }
  count() { return this.#all('(els) => els.length'); }
  allInnerTexts() { return this.#all('(els) => els.map((e) => e.innerText)'); }
  evaluateAll(fn) { return this.#all(fn.toString()); }
  innerText() { return this.#one('(e) => e.innerText'); }
  textContent() { return this.#one('(e) => e.textContent'); }
  getAttribute(name) { return this.#one(`(e) => e.getAttribute(${JSON.stringify(name)})`); }
  async isVisible() { return this.#all('(els, vis) => els.length > 0 && vis(els[0])'); }
  async focus() { await (await this.#handle()).focus(); }
  async click() { await (await this.#handle()).click(); }
  async selectOption(value) { await (await this.#handle()).select(value); }
  // As a person does it: the field emptied, the text typed.
  async fill(text) {
    const h = await this.#handle();
    await h.evaluate((e) => { e.value = ''; e.focus(); });
    await this.page.keyboard.type(text);
  }
}

function puppeteerPage(page) {
  return {
    goto: (url) => page.goto(url),
    evaluate: (fn, ...args) => page.evaluate(fn, ...args),
    keyboard: page.keyboard,
    screenshot: (opts) => page.screenshot(opts),
    locator: (css, opts) => new Locator(page, []).locator(css, opts),
    getByRole: (role, opts) => new Locator(page, []).getByRole(role, opts),
  };
}

async function firefox(executablePath) {
  const { default: puppeteer } = await import('puppeteer-core');
  // WebDriver BiDi cannot emulate prefers-color-scheme yet (puppeteer's
  // emulateMediaFeatures needs CDP): a dark page comes from a browser
  // started with the preference that forces dark content, started when
  // first asked for.
  const started = new Map();
  const start = (scheme) => {
    if (!started.has(scheme)) {
      started.set(scheme, puppeteer.launch({ browser: 'firefox', executablePath, headless: true,
        extraPrefsFirefox: { 'layout.css.prefers-color-scheme.content-override': scheme === 'dark' ? 0 : 1 } }));
    }
    return started.get(scheme);
  };
  const first = await start('light');
  return {
    name: 'firefox',
    version: await first.version(),
    async openPage(scheme = 'light', allowed = []) {
      const ctx = await (await start(scheme)).createBrowserContext();
      const page = await ctx.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      const trouble = [];
      const weight = new Map();
      watch((ev, fn) => page.on(ev, fn), allowed, trouble, weight, (r) => r.buffer());
      return { page: puppeteerPage(page), trouble, weight, close: () => ctx.close() };
    },
    async close() {
      for (const b of started.values()) await (await b).close();
    },
  };
}

// The browser @name ('chromium' or 'firefox'), or null when it is not installed.
export async function launch(name) {
  const path = browsers[name]();
  if (!path) return null;
  return name === 'chromium' ? chromium(path) : firefox(path);
}
