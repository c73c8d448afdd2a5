// The web interface in a real browser: Debian's chromium, headless,
// driven by playwright-core. Before the browser, the attacks on /ui/ over
// raw HTTP. Then the pages, checked as ui-pages.mjs says (the same checks
// run in Firefox: ui-firefox.mjs): a daemon holding the README
// walkthrough's release, page by page against the API's answers, with no
// console error, failed request or serious axe-core finding, in light and
// dark; then a daemon with tokens.
// Screenshots go to the directory given as the third argument.
//
//   node tests/js/integration/ui.mjs path/to/cdeventsd path/to/cdevctl [screenshot-dir]
// Exits 77 (skipped) only when no chromium is installed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, checker, raw, statusOf } from '../daemon.mjs';
import { browsers, launch } from '../ui-driver.mjs';
import { pagesOfTheWalkthrough, pagesWithTokens, postWalkthrough } from '../ui-pages.mjs';

const bin = process.argv[2];
const shots = process.argv[4] || process.env.CDE_UI_SCREENSHOTS || path.join(process.cwd(), 'ui-screenshots');
if (!browsers.chromium()) {
  console.log('SKIP: no chromium (Debian: apt-get install chromium; scripts/install-deps installs it)');
  process.exit(77);
}
const t = checker();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-ui-'));
fs.mkdirSync(shots, { recursive: true });

// --- the files over raw HTTP: attacks and headers ---------------------------
const d = await startDaemon(bin);
const get = (target) => raw(d, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
for (const target of ['/ui/../../../etc/passwd', '/ui/%2e%2e/%2e%2e/etc/passwd', '/ui/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
  '/ui/..%2f..%2fREADME.md', '/ui/js/..%2f..%2f..%2fREADME.md', '/ui/index.html%00.js', '/ui/%00',
  '/ui/.%2e/ui_files.c', '/ui//etc/passwd', '/ui/js/../index.html', '/ui/..\\..\\etc\\passwd']) {
  const res = await get(target);
  t.check(statusOf(res) === 404 && !res.includes('root:') && !res.includes('<!doctype'),
    `GET ${target}: 404, nothing outside the tree`, res.slice(0, 200));
}
const index = await get('/ui/');
const head = index.split('\r\n\r\n')[0];
for (const [name, re] of [['Content-Type', /^Content-Type: text\/html; charset=utf-8$/m],
  ['Cache-Control', /^Cache-Control: no-cache$/m], ['X-Content-Type-Options', /^X-Content-Type-Options: nosniff$/m],
  ['Content-Security-Policy', /^Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';[^\r\n]*frame-ancestors 'none'$/m]]) {
  t.check(re.test(head), `/ui/ answers ${name}`, head);
}
t.check(!/unsafe-inline|unsafe-eval/.test(head), 'the policy allows no inline script or eval', head);
const js = (await get('/ui/js/app.js')).split('\r\n\r\n')[0];
t.check(/^Content-Type: text\/javascript; charset=utf-8$/m.test(js), '/ui/js/app.js is text/javascript', js);
t.check(statusOf(await raw(d, 'POST /ui/index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')) === 405,
  'POST /ui/index.html: 405');
t.check(/^Location: \/ui\/$/m.test(await get('/ui')), '/ui redirects to /ui/');
postWalkthrough(t, d);

const b = await launch('chromium');
await pagesOfTheWalkthrough(t, b, d, shots);
await pagesWithTokens(t, b, bin, process.argv[3], dir, shots);
await b.close();
fs.rmSync(dir, { recursive: true, force: true });
console.log(`screenshots in ${shots}`);
t.finish();
