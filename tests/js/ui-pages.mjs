// The web interface's pages as a person uses them, in whichever browser
// ui-driver.mjs gives (chromium, firefox): the same checks in each. A
// daemon holding the README walkthrough's release (the OOMKilled executor
// included) is opened page by page, by keyboard where it matters, and
// what each page shows is held against the API's own answers: the
// releases table, the timeline's events, their order, failure marks and
// the remedy, the chain's verification, the artifact's history, the sinks
// and the DORA keys. No page may log a console error, fail a request or
// have a serious or critical axe-core finding, in light and dark. Then a
// daemon with tokens: the page asks for one, a wrong one is refused, a
// query token reads every page and can post nothing.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { auditSql, startDaemon, curl, waitFor } from './daemon.mjs';

const axeSource = fs.readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
const srcDir = process.env.CDE_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

// The README walkthrough's hooks, run as it says, against @d.
export function postWalkthrough(t, d) {
  const readme = fs.readFileSync(path.join(srcDir, 'README.md'), 'utf8');
  const walk = /\n## Five-minute walkthrough\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  const hooks = [...walk.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes('hook()'));
  const r = spawnSync('sh', ['-e', '-c', hooks.split('http://127.0.0.1:9720').join(d.url)], { cwd: srcDir, encoding: 'utf8' });
  t.check(r.status === 0 && !r.stdout.includes('"error"'), 'the README walkthrough posts its release', r.stdout + r.stderr);
}


// Only what is checked comes back from the page: its findings' ids,
// impact and first targets.
async function axe(t, page, name) {
  await page.evaluate(axeSource);	/* through the debugger, as a tool; the page's CSP allows no inline script */
  const bad = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }).then((res) => res.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3)}`)));
  t.check(bad.length === 0, `${name}: no serious or critical axe-core finding`, bad.join('; '));
}

// The pages of daemon @d, which holds the walkthrough's release, in
// browser @b; stops @d. Screenshots go to @shots.
export async function pagesOfTheWalkthrough(t, b, d, shots) {
  const api = (p, d0 = d) => curl([`${d0.url}${p}`]).json;
  const chain = api('/v1/chains/etl-r42').events;
  const image = chain.find((r) => r.event.subject.content?.artifactId)?.event.subject.content.artifactId;
  const shot = (page, name) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  for (const scheme of ['light', 'dark']) {
    const { close, page, trouble, weight } = await b.openPage(scheme);
    const tag = scheme === 'light' ? '' : '-dark';
    await page.goto(`${d.url}/ui/`);
    const row = page.locator('tr[data-chain="etl-r42"]');
    await row.waitFor();
    const cells = await row.locator('th, td').allInnerTexts();
    t.check(cells[0] === 'etl-r42' && cells[1] === 'etl-release' && cells[3] === 'etl' && cells[4] === 'prod' &&
      /failure/.test(cells[5]) && cells[8] === String(chain.length), `${scheme}: the releases table shows the release as the API has it`,
      JSON.stringify(cells));
    const pageBytes = [...weight.values()].reduce((a, b) => a + b, 0);
    t.check(pageBytes > 0 && pageBytes < 200 * 1024, `${scheme}: the page weighs ${pageBytes} bytes before data (< 200 KB)`);
    await axe(t, page, `${scheme} releases`);
    if (scheme === 'light') {
      // Live refresh: a release posted while the page is open appears on it.
      const r = curl(['-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary', JSON.stringify({ phase: 'started',
        subject: 'etl-build-44', chainId: 'etl-r44' }), `${d.url}/v1/hooks/build`]);
      const appeared = await waitFor(async () => (await page.locator('tr[data-chain="etl-r44"]').count()) === 1, 20000, { every: 200 });
      t.check(r.status === 202 && appeared, 'light: live refresh shows a release posted while the page is open');
    }
    await shot(page, `releases${tag}`);
    if (scheme === 'light') {
      // The filters: only the failed release is left, and the address keeps the choice.
      await page.locator('select[name="outcome"]').selectOption('failure');
      await page.getByRole('button', { name: 'Apply' }).click();
      await waitFor(async () => (await page.locator('tr[data-chain]').count()) === 1, 5000);
      t.check(JSON.stringify(await page.locator('tr[data-chain]').evaluateAll((rs) => rs.map((r) => r.dataset.chain))) ===
        '["etl-r42"]' && (await page.evaluate(() => location.href)).includes('outcome=failure'),
      'light: the outcome filter leaves the failed release only');
    }

    // To the release by keyboard: focus its link, Enter.
    await row.locator('a').first().focus();
    await page.keyboard.press('Enter');
    const items = page.locator('ol.timeline > li');
    await waitFor(async () => (await items.count()) === chain.length, 10000);
    const seqs = await items.evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
    t.check(JSON.stringify(seqs) === JSON.stringify(chain.map((r) => r.seq)),
      `${scheme}: the timeline shows the chain's ${chain.length} events in its order`, `${seqs}`);
    const failedSeqs = await page.locator('ol.timeline > li.failed').evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
    const apiFailed = chain.filter((r) => ['failure', 'error'].includes(r.event.subject.content?.outcome) ||
      r.event.context.type.startsWith('dev.cdevents.incident.')).map((r) => r.seq);
    t.check(apiFailed.length === 3 && JSON.stringify(failedSeqs) === JSON.stringify(apiFailed),
      `${scheme}: the failures are marked (the pod, its incident, the pipeline)`, `${failedSeqs} vs ${apiFailed}`);
    const incident = api('/v1/events/5d2a63a1-cc67-4416-a226-e33fd73eaa4b.incident.OOMKilled').events[0];
    const remedy = incident.event.customData.podOutcome.remedy.text;
    const shownRemedy = await page.locator(`li[data-seq="${incident.seq}"] .remedy`).innerText();
    t.check(shownRemedy === `Remedy: ${remedy}`, `${scheme}: the OOMKilled pod shows the API's remedy`, shownRemedy);
    const verdict = page.locator('.verdict.ok, .verdict.bad');
    await verdict.waitFor({ timeout: 10000 });
    t.check((await verdict.innerText()).startsWith(`✓ Verified: all ${chain.length} events are in the log's tree`),
      `${scheme}: the chain verifies against the log's tree`, await verdict.innerText());
    await shot(page, `release${tag}`);
    // An event's record, opened by keyboard.
    const deploy = chain.find((r) => r.event.context.type.startsWith('dev.cdevents.service.deployed'));
    const summary = page.locator(`li[data-seq="${deploy.seq}"] summary`);
    await summary.focus();
    await page.keyboard.press('Enter');
    const pre = await page.locator(`li[data-seq="${deploy.seq}"] pre`).innerText();
    t.check(JSON.stringify(JSON.parse(pre)) === JSON.stringify(deploy.event) &&
      (await summary.innerText()).includes(deploy.hash.slice(0, 12)) && (await summary.innerText()).includes(deploy.principal),
      `${scheme}: an event opens to its JSON, hash and principal`);
    t.check((await page.locator(`li[data-seq="${deploy.seq}"] .sizing`).innerText()).includes(
      `${deploy.event.customData.sizing.executor.count} executors`), `${scheme}: the deploy shows its sizing`);
    await axe(t, page, `${scheme} release, a record open`);

    await page.locator('dl.summary a').first().click();
    await page.locator('h1', { hasText: 'Artifact' }).waitFor();
    const history = api(`/v1/events?artifactId=${encodeURIComponent(image)}&limit=1000`).events;
    await waitFor(async () => (await page.locator('table tbody tr').count()) === history.length, 5000);
    t.check((await page.locator('table tbody tr').count()) === history.length && history.length >= 5,
      `${scheme}: the artifact's history has the API's ${history.length} events`);
    t.check((await page.locator('main ul li').first().innerText()).startsWith('etl in prod'),
      `${scheme}: the artifact runs in prod, as /v1/environments/prod says`);
    await axe(t, page, `${scheme} artifact`);
    await shot(page, `artifact${tag}`);

    await page.getByRole('link', { name: 'Sinks' }).click();
    await page.locator('h1', { hasText: 'Sinks' }).waitFor();
    t.check(api('/v1/sinks').sinks.length === 0 && (await page.locator('main').innerText()).includes('No sinks are configured'),
      `${scheme}: the sinks page says what /v1/sinks says`);
    await axe(t, page, `${scheme} sinks`);

    await page.getByRole('link', { name: 'DORA' }).click();
    const card = page.locator('article.dora');
    await card.first().waitFor();
    const dora = api('/v1/dora?window=30d').services;
    const text = await card.first().innerText();
    t.check((await card.count()) === dora.length && text.includes(`${dora[0].service} in ${dora[0].environment}`) &&
      text.includes(`${dora[0].deploymentFrequency.deployments} deployment`), `${scheme}: the DORA page shows the API's keys`, text);
    const charted = await card.first().locator('rect.bar').evaluateAll((rs) => rs.reduce((n, r) => n + Number(r.dataset.count), 0));
    t.check(charted === dora[0].deploymentFrequency.deployments, `${scheme}: its chart counts the same deployments`, String(charted));
    // Each key over time: the table beside the charts holds, for the latest
    // window, what GET /v1/dora answers now, and for the earliest what it
    // answers with until= that window's end.
    const rowsOf = await card.first().locator('table.trend-values tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    const latest = rowsOf.at(-1) ?? [];
    t.check(rowsOf.length === 8 && (await card.first().locator('svg.trend').count()) === 4 &&
      latest[1] === dora[0].deploymentFrequency.perDay.toFixed(2) && latest[3] === '0.0%',
      `${scheme}: the DORA card draws the four keys over 8 windows, the latest as the API has it`, JSON.stringify(rowsOf));
    const firstEnd = await card.first().locator('table.trend-values tbody th').first().textContent();
    const then = api(`/v1/dora?window=30d&until=${encodeURIComponent(new Date(Date.now() - 49 * 86400e3).toISOString())}`);
    t.check(firstEnd === new Date(Date.parse(api('/v1/dora?window=30d').until) - 49 * 86400e3).toISOString().slice(0, 10) &&
      rowsOf[0][1] === '0.00' && then.services.length === 0,
      `${scheme}: seven weeks back the release was not deployed: none a day, as the API says then`, JSON.stringify(rowsOf[0]));
    const slo = page.locator('article.slo[data-pipeline="etl-release"]');
    const sloText = await slo.innerText();
    t.check(/1 run finished, 0 succeeded/.test(sloText) && (await slo.locator('svg.trend').count()) === 2,
      `${scheme}: the pipeline's SLOs say how its runs finished, with two charts`, sloText);
    await axe(t, page, `${scheme} dora`);
    await shot(page, `dora${tag}`);
    t.check(trouble.length === 0, `${scheme}: no console error, failed request or error status`, trouble.join('\n'));
    await close();
  }

  // A record changed behind the daemon's back: the release no longer verifies.
  {
    const test = chain.find((r) => r.event.context.type.startsWith('dev.cdevents.testsuiterun.'));
    const r = auditSql(d.stateDir, `UPDATE events SET event = replace(event, '"success"', '"failure"') WHERE seq = ${test.seq}`);
    t.check(r.status === 0, 'tampering: a test suite\'s success rewritten as a failure in audit.db', r.stderr);
    const { close, page, trouble } = await b.openPage('light', ['409', 'status of 409']);
    await page.goto(`${d.url}/ui/#/release/etl-r42`);
    const verdict = page.locator('.verdict.ok, .verdict.bad');
    await verdict.waitFor({ timeout: 10000 });
    const said = await verdict.innerText();
    t.check(said.startsWith('✗ Does not verify') && said.includes(`seq ${test.seq}:`) &&
      (await verdict.getAttribute('class')).includes('bad'), 'tampering: the release shows it does not verify, naming the seq', said);
    t.check((await page.locator(`li[data-seq="${test.seq}"] .unverified`).innerText()).startsWith('✗ Not as logged'),
      'tampering: the altered event itself is marked');
    await shot(page, 'release-tampered');
    t.check(trouble.length === 0, 'tampering: no console error but the 409', trouble.join('\n'));
    await close();
  }
  t.check(await d.stop() === 0, 'the daemon exits 0');
}

// A daemon with tokens, a signed log, a file sink and a gate, read in @b
// The checkpoint's signature, checked in the browser with the verifier
// key the reader gives (the page at a release of a log signing with the
// key in @keyFile): the log's own verifies; another key of the same name
// does not; a malformed one is refused; forgotten, it is not checked.
async function verifierKeyChecks(t, page, cdevctl, dir, keyFile) {
  const vkey = fs.readFileSync(`${keyFile}.pub`, 'utf8').trim();
  const otherFile = path.join(dir, 'other.key');
  spawnSync(cdevctl, ['audit', 'keygen', '--name', 'ui.example/cdeventsd', '--out', otherFile], { encoding: 'utf8' });
  const otherKey = fs.readFileSync(`${otherFile}.pub`, 'utf8').trim();
  /* The page is drawn again with the key: wait for a new verdict. */
  const verdictNow = () => page.evaluate(() => {
    const v = document.querySelector('.verdict');
    return v && (v.classList.contains('ok') || v.classList.contains('bad')) ? v.textContent : null;
  });
  const enter = async (text) => {
    await page.locator('#verifier-key').fill(text);
    await page.keyboard.press('Enter');
  };
  const checkWith = async (text) => {
    const before = await verdictNow();
    await enter(text);
    return waitFor(async () => { const v = await verdictNow(); return v !== before ? v : null; }, 10000, { every: 50 });
  };
  let said = await checkWith(vkey);
  t.check(said?.startsWith('✓') && said.includes(`its signature verified with the key ${vkey.split('+').slice(0, 2).join('+')}`),
    'auth: with the log\'s verifier key given, the checkpoint\'s signature verifies in the browser', said);
  said = await checkWith(otherKey);
  t.check(said?.startsWith('✗') && said.includes('carries no signature by the key') &&
    (await page.locator('.verdict').getAttribute('class')).includes('bad'),
    'auth: with another key of the same name, the release does not verify', said);
  await enter('ui.example/cdeventsd+00000000+AAAA');
  await waitFor(async () => (await page.locator('#verifier-key-hint').innerText()).startsWith('Not a verifier key'), 5000);
  t.check((await page.locator('#verifier-key-hint').innerText()).startsWith('Not a verifier key'),
    'auth: a malformed key is refused, saying why');
  await page.getByRole('button', { name: 'Forget' }).click();
  said = await waitFor(async () => { const v = await verdictNow(); return v?.includes('is not checked here') ? v : null; },
    10000, { every: 50 });
  t.check(said, 'auth: forgotten, the page says the signature is not checked in the browser');
}

// with a query token; cdevctl at @cdevctl makes its signing key in @dir.
export async function pagesWithTokens(t, b, bin, cdevctl, dir, shots) {
  const shot = (page, name) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  const readerToken = crypto.randomBytes(24).toString('hex');
  const cfg = path.join(dir, 'cdeventsd.yaml');
  // This one signs checkpoints: the release is held to the signed root.
  const keyFile = path.join(dir, 'log.key');
  const gen = spawnSync(cdevctl, ['audit', 'keygen', '--name', 'ui.example/cdeventsd', '--out', keyFile], { encoding: 'utf8' });
  t.check(gen.status === 0, 'auth: cdevctl audit keygen makes a signing key', gen.stderr);
  fs.writeFileSync(cfg, `audit:
  signing_key_file: ${keyFile}
  tree_checkpoint_every: 1
  tree_checkpoint_interval: 1s
gates:
  prod:
    require:
      - build: true
      - tests: {suites: [unit], outcome: success}
sinks:
  - name: shipper
    type: file
    path: ${path.join(dir, 'events.jsonl')}
routes:
  - sinks: [shipper]
principals:
  - name: ci
    scopes: [emit]
    token_env: CDE_TEST_EMIT_TOKEN
  - name: reader
    scopes: [query]
    token_env: CDE_TEST_READER_TOKEN
`);
  const emitToken = crypto.randomBytes(24).toString('hex');
  const a = await startDaemon(bin, ['-c', cfg], { CDE_TEST_READER_TOKEN: readerToken, CDE_TEST_EMIT_TOKEN: emitToken });
  const posted = curl(['-X', 'POST', '-H', `Authorization: Bearer ${emitToken}`, '-H', 'Content-Type: application/json',
    '--data-binary', JSON.stringify({ phase: 'started', subject: 'etl-release-43', pipelineName: 'etl-release',
      uri: 'https://ci.example.com/etl-release/43', chainId: 'etl-r43' }),
    `${a.url}/v1/hooks/pipeline`]);
  t.check(posted.status === 202, 'auth: the emit token posts a release', posted.body);
  const signed = await waitFor(() => /^ui\.example\/cdeventsd\n1\n/.test(
    curl(['-H', `Authorization: Bearer ${readerToken}`, `${a.url}/v1/log/checkpoint`]).body), 10000, { every: 100 });
  t.check(signed, 'auth: a signed checkpoint covers it');
  let sinkState = null;
  const shipped = await waitFor(() => {
    sinkState = curl(['-H', `Authorization: Bearer ${readerToken}`, `${a.url}/v1/sinks`]).json;
    return sinkState?.sinks?.[0]?.delivered === 1 && sinkState.sinks[0].lagEvents === 0;
  }, 10000, { every: 100 });
  t.check(shipped, 'auth: the file sink delivers the release', JSON.stringify(sinkState));
  // Its build names an image, and prod's gate is asked about it: a decision logged.
  const image43 = 'pkg:oci/etl@sha256%3A' + 'b'.repeat(64);
  const asReader = ['-H', `Authorization: Bearer ${readerToken}`];
  const built = curl(['-X', 'POST', '-H', `Authorization: Bearer ${emitToken}`, '-H', 'Content-Type: application/json',
    '--data-binary', JSON.stringify({ phase: 'finished', subject: 'etl-build-43', artifactId: image43, chainId: 'etl-r43' }),
    `${a.url}/v1/hooks/build`]);
  const gate = curl([...asReader, `${a.url}/v1/gates/prod?artifact=${encodeURIComponent(image43)}`]).json;
  t.check(built.status === 202 && gate?.decision === 'deny', 'auth: the prod gate denies the image (no unit tests)', JSON.stringify(gate));
  // 26 more, for two pages of releases.
  const more = Array.from({ length: 26 }, (_, i) => curl(['-X', 'POST', '-H', `Authorization: Bearer ${emitToken}`,
    '-H', 'Content-Type: application/json', '--data-binary', JSON.stringify({ phase: 'started', subject: `b-${i}`,
      chainId: `page-${i}` }), `${a.url}/v1/hooks/build`]).status);
  t.check(more.every((s) => s === 202), 'auth: 26 more releases posted', `${more}`);
  {
    const { close, page, trouble } = await b.openPage('light', ['401', 'status of 401', '403', 'status of 403']);
    await page.goto(`${a.url}/ui/`);
    const dialog = page.locator('#token-dialog');
    await dialog.waitFor({ state: 'visible' });
    t.check(await page.locator('tr[data-chain]').count() === 0, 'auth: without a token the page asks for one and shows nothing');
    await axe(t, page, 'token prompt');
    await shot(page, 'token-prompt');
    await page.locator('#token-input').fill('not-a-token');
    await page.keyboard.press('Enter');
    await waitFor(async () => (await page.locator('#token-reason').innerText()).includes('refused'), 5000);
    t.check(await dialog.isVisible() && (await page.locator('#token-reason').innerText()).includes('refused'),
      'auth: a wrong token is refused and asked again');
    await page.locator('#token-input').fill(readerToken);
    await page.keyboard.press('Enter');
    await page.locator('tr[data-chain="page-25"]').waitFor();
    t.check(!(await dialog.isVisible()), 'auth: the query token reads the releases');
    // Paging: 27 releases, 25 a page.
    const pager = page.locator('nav.pager');
    t.check((await pager.innerText()).includes('1–25') && (await page.locator('tr[data-chain]').count()) === 25,
      'auth: the first page holds 25 of 27 releases', await pager.innerText());
    // page-0, on the second page, gets an event while the first is shown:
    // "Older →" carries the first page's head, so it is not taken as shown.
    const late = curl(['-X', 'POST', '-H', `Authorization: Bearer ${emitToken}`, '-H', 'Content-Type: application/json',
      '--data-binary', JSON.stringify({ phase: 'finished', subject: 'b-0', chainId: 'page-0' }), `${a.url}/v1/hooks/build`]);
    t.check(late.status === 202, 'auth: a release of the second page gets an event', `${late.status}`);
    await pager.getByRole('link', { name: 'Older →' }).click();
    await waitFor(async () => (await page.locator('tr[data-chain]').count()) === 2, 5000);
    const second = await page.locator('tr[data-chain]').evaluateAll((rs) => rs.map((r) => r.dataset.chain));
    t.check((await pager.innerText()).includes('26–27') && !(await pager.innerText()).includes('Older') &&
      second.includes('etl-r43') && second.includes('page-0') && /[?&]head=\d+/.test(await page.evaluate(() => location.hash)),
      'auth: the second page holds the oldest two as they stood when the first was read, etl-r43 among them',
      `${await pager.innerText()} ${second} ${await page.evaluate(() => location.hash)}`);
    await page.locator('tr[data-chain="etl-r43"]').waitFor();
    await page.locator('tr[data-chain="etl-r43"] a').first().click();
    await page.locator('.verdict.ok').waitFor({ timeout: 10000 });
    const said = await page.locator('.verdict').innerText();
    const chain43 = curl([...asReader, `${a.url}/v1/chains/etl-r43`]).json.events;
    t.check(chain43.length === 3 && await page.locator('ol.timeline > li').count() === chain43.length &&
      said.includes('checkpoint ui.example/cdeventsd signed'),
      'auth: and the release, verified against the signed checkpoint\'s root', said);
    await verifierKeyChecks(t, page, cdevctl, dir, keyFile);
    await waitFor(() => {
      sinkState = curl(['-H', `Authorization: Bearer ${readerToken}`, `${a.url}/v1/sinks`]).json;
      const all = curl([...asReader, `${a.url}/v1/events?limit=1000`]).json.events.length;
      return sinkState?.sinks?.[0]?.delivered === all && sinkState.sinks[0].lagEvents === 0;
    }, 10000, { every: 100 });
    await page.getByRole('link', { name: 'Sinks' }).click();
    await page.locator('main tbody tr').first().waitFor();
    const sinkRow = await page.locator('main tbody tr').first().locator('th, td').allInnerTexts();
    const shipper = sinkState?.sinks?.find((x) => x.name === 'shipper');
    t.check(sinkRow[0] === 'shipper' && sinkRow[1] === 'file' && sinkRow[8] === String(shipper?.delivered) &&
      sinkRow[10] === String(shipper?.deadLetters) && sinkRow[11] === 'none',
      'auth: the sinks page shows the file sink as /v1/sinks does', JSON.stringify(sinkRow));
    await axe(t, page, 'sinks with a sink');
    await shot(page, 'sinks');
    await page.getByRole('link', { name: 'DORA' }).click();
    await page.locator('h1', { hasText: 'DORA keys' }).waitFor();
    // The image's page shows the decision the log holds, and asks no gate itself.
    await page.goto(`${a.url}/ui/#/artifact/${encodeURIComponent(image43)}`);
    const gateRow = page.locator('table.gates tbody tr');
    await gateRow.first().waitFor();
    const cells = await gateRow.first().locator('th, td').allInnerTexts();
    const unmet = gate.requirements.filter((r) => !r.met).map((r) => r.reason).join('; ');
    t.check(await gateRow.count() === 1 && cells[0] === String(gate.event.seq) && cells[2] === 'prod' &&
      /deny/.test(cells[3]) && cells[4] === 'reader' && cells[5] === unmet,
      'auth: the artifact page shows the gate decision as the API gave it', JSON.stringify(cells));
    await axe(t, page, 'artifact with a gate decision');
    await shot(page, 'artifact-gates');
    const post = await page.evaluate(async () => {
      const token = sessionStorage.getItem('cdeventsd.token');
      const r = await fetch('/v1/hooks/pipeline', { method: 'POST', headers: { Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json' }, body: JSON.stringify({ phase: 'started', subject: 'x', pipelineName: 'x' }) });
      return r.status;
    });
    t.check(post === 403, 'auth: the page\'s query token can post nothing (403)', String(post));
    t.check(trouble.length === 0, 'auth: no console error but the refusals (401, 403)',
      trouble.join('\n'));
    await close();
  }
  t.check(await a.stop() === 0, 'auth: the daemon exits 0');
}
