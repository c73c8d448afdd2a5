// The web interface in Firefox: Debian's firefox-esr, headless, driven by
// puppeteer-core over WebDriver BiDi, through the same page checks as
// chromium's (ui-pages.mjs; the attacks over raw HTTP are the browser's
// no concern and stay in ui.mjs). A daemon holding the README
// walkthrough's release, page by page against the API's answers, with no
// console error, failed request or serious axe-core finding, in light and
// dark; then a daemon with tokens.
//
//   node tests/js/integration/ui-firefox.mjs path/to/cdeventsd path/to/cdevctl [screenshot-dir]
// Exits 77 (skipped) only when no firefox-esr is installed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, checker } from '../daemon.mjs';
import { browsers, launch } from '../ui-driver.mjs';
import { pagesOfTheWalkthrough, pagesWithTokens, postWalkthrough } from '../ui-pages.mjs';

const bin = process.argv[2];
const shots = process.argv[4] || process.env.CDE_UI_SCREENSHOTS || path.join(process.cwd(), 'ui-screenshots-firefox');
if (!browsers.firefox()) {
  console.log('SKIP: no firefox-esr (Debian: apt-get install firefox-esr; scripts/install-deps installs it)');
  process.exit(77);
}
const t = checker();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-ui-firefox-'));
fs.mkdirSync(shots, { recursive: true });

const started = Date.now();
const [b, d] = await Promise.all([launch('firefox'), startDaemon(bin)]);
console.log(`${b.version} started in ${Date.now() - started} ms`);
postWalkthrough(t, d);
// A page check that throws (an element that never came) ends the run as
// a failure, and the browsers are closed all the same: left to
// puppeteer's own kill at exit, the second of two Firefoxes (the dark
// one) kept running after the test (puppeteer-core 24.43.1).
try {
  await pagesOfTheWalkthrough(t, b, d, shots);
  await pagesWithTokens(t, b, bin, process.argv[3], dir, shots);
} catch (e) {
  t.check(false, 'the pages are gone through to the end', e.stack);
  await d.stop();
} finally {
  await b.close();
}
fs.rmSync(dir, { recursive: true, force: true });
console.log(`screenshots in ${shots}; ${Date.now() - started} ms in all`);
t.finish();
