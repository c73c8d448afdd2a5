// The DORA keys and what runs where, through the real daemon: a 90-day
// history (tests/js/dora-history.mjs) whose keys are known by
// construction is posted as CloudEvents batches with past timestamps, in
// shuffled order (as a late poster sends them); GET /v1/dora, `cdevctl
// dora` and the gauges of /metrics give exactly the plan's values for
// 7, 30 and 90 days; GET /v1/environments/prod and `cdevctl env prod`
// show what the plan left running there, and the rollback target.
//
//   node tests/js/integration/dora.mjs path/to/cdeventsd path/to/cdevctl
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startDaemon, curl, checker, waitFor, waitForLog } from '../daemon.mjs';
import { oracle } from '../oracle.mjs';
import { planHistory, expectedKeys, cdevents, WINDOWS } from '../dora-history.mjs';

const t = checker();
const [bin, ctl] = process.argv.slice(2, 4);
const began = Date.now();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-dora-'));
const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, 'dora:\n  failure_window: 24h\n  window: 30d\n  interval: 1s\n');
const d = await startDaemon(bin, ['-c', cfg]);
const get = (p) => curl([`${d.url}${p}`]);
const ctlRun = (args) => spawnSync(ctl, [...args, '--url', d.url], { encoding: 'utf8' });

const seed = Number(process.env.CDE_DORA_SEED || 18);
console.log(`seed ${seed} (CDE_DORA_SEED replays it)`);
const plan = planHistory({ now: Date.now(), seed });
const events = cdevents(plan, seed);
const ajv = oracle('v0.5.1');
const invalid = events.filter((e) => !ajv(e).valid);
t.check(invalid.length === 0, `the history's ${events.length} events are valid per the official schemas`,
  JSON.stringify(invalid.slice(0, 2).map((e) => [e.context.type, ajv(e).errors])));

for (let i = 0; i < events.length; i += 100) {
  const batch = events.slice(i, i + 100).map((data) => ({
    specversion: '1.0', id: data.context.id, source: data.context.source, type: data.context.type,
    time: data.context.timestamp, data,
  }));
  const r = curl(['-X', 'POST', '-H', 'Content-Type: application/cloudevents-batch+json',
    '--data-binary', JSON.stringify(batch), `${d.url}/v1/events`]);
  if (r.status !== 202) t.check(false, 'a batch of the history is accepted', `${r.status} ${r.body.slice(0, 300)}`);
}

// ---- GET /v1/dora over each window, and with filters ----
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
for (const [w, ms] of Object.entries(WINDOWS)) {
  const r = get(`/v1/dora?window=${w}`);
  const want = expectedKeys(plan, ms);
  t.check(r.status === 200 && r.json.window === w && r.json.failureWindowSeconds === 86400,
    `GET /v1/dora?window=${w} answers`, r.body.slice(0, 300));
  t.check(same(r.json?.services, want), `over ${w}, every service and environment has the plan's four keys and bands`,
    `\n got  ${JSON.stringify(r.json?.services)}\n want ${JSON.stringify(want)}`);
}
const want30 = expectedKeys(plan, WINDOWS['30d']);
const apiProd = want30.find((k) => k.service === 'shop/api' && k.environment === 'prod');
let r = get('/v1/dora?service=shop%2Fapi&environment=prod');
t.check(r.status === 200 && r.json.window === '30d' && same(r.json.services, [apiProd]),
  'service= and environment= narrow the answer; the window defaults to 30d', r.body.slice(0, 400));
t.check(want30.some((k) => k.changeFailureRate.failed > 0) && want30.some((k) => k.timeToRestore.samples > 0),
  'the history has failures and restores in the 30-day window (the seed exercises them)');

// ---- ?until=: the same keys as they stood at an earlier time ----
// Six 30-day windows a fortnight apart, as the DORA page draws them; each
// sees only what the log holds up to its end.
let pastDeploys = 0;
for (let k = 1; k <= 6; k++) {
  const until = Math.floor((plan.now - k * 14 * 86400e3) / 1000) * 1000;
  const at = new Date(until).toISOString();
  r = get(`/v1/dora?window=30d&until=${encodeURIComponent(at)}`);
  const want = expectedKeys(plan, WINDOWS['30d'], plan.failureWindowMs, until)
    .filter((x) => x.deploymentFrequency.deployments || x.timeToRestore.samples);
  const got = (r.json?.services ?? []).filter((x) => x.deploymentFrequency.deployments || x.timeToRestore.samples);
  pastDeploys += want.reduce((n, x) => n + x.deploymentFrequency.deployments, 0);
  t.check(r.status === 200 && r.json.until.slice(0, 19) === at.slice(0, 19) && same(got, want),
    `GET /v1/dora?until=${at.slice(0, 10)}: the 30-day window ending then has the plan's keys`,
    `\n got  ${JSON.stringify(got)}\n want ${JSON.stringify(want)}`);
}

t.check(pastDeploys > 20, 'the earlier windows hold deployments (the check above is not of empty answers)', `${pastDeploys}`);

// ---- cdevctl dora ----
let c = ctlRun(['dora', '--window', '90d', '--json']);
t.check(c.status === 0 && same(JSON.parse(c.stdout || '{}').services, expectedKeys(plan, WINDOWS['90d'])),
  'cdevctl dora --json gives the same keys', c.stderr);
c = ctlRun(['dora', '--service', 'shop/api', '--env', 'prod']);
const hms = (s) => {
  if (s === null) return '-';
  const v = Math.round(s), p = (n) => String(n).padStart(2, '0');
  const hh = `${p(Math.floor(v % 86400 / 3600))}:${p(Math.floor(v % 3600 / 60))}:${p(v % 60)}`;
  return v >= 86400 ? `${Math.floor(v / 86400)}d ${hh}` : hh;
};
const row = c.stdout.split('\n').find((l) => l.startsWith('shop/api'));
const cells = [String(apiProd.deploymentFrequency.deployments), apiProd.deploymentFrequency.perDay.toFixed(3),
  apiProd.deploymentFrequency.band, hms(apiProd.leadTime.medianSeconds), apiProd.leadTime.band ?? '-',
  apiProd.changeFailureRate.ratio === null ? '-' : `${(apiProd.changeFailureRate.ratio * 100).toFixed(1)}%`,
  apiProd.changeFailureRate.band ?? '-', hms(apiProd.timeToRestore.medianSeconds), apiProd.timeToRestore.band ?? '-'];
t.check(c.status === 0 && row && row.includes(' prod ') && cells.every((x) => row.includes(x)),
  'cdevctl dora prints the keys and bands as a table', `${c.stdout}\nwant cells ${cells.join(' | ')}`);

// ---- the gauges of /metrics (computed every second off the loop) ----
const gauge = (text, name, labels) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};
const lbl = (k) => `service="${k.service}",environment="${k.environment}"`;
const metrics = await waitFor(() => {
  const m = get('/metrics');
  return m.status === 200 && gauge(m.body, 'cdeventsd_dora_deployments', lbl(apiProd)) === apiProd.deploymentFrequency.deployments
    ? m.body : null;
}, 15000, { every: 200 });
t.check(metrics, 'the DORA gauges appear in /metrics');
const bandValue = { low: 1, medium: 2, high: 3, elite: 4 };
const wrong = [];
for (const k of want30) {
  const expect = [
    ['cdeventsd_dora_deployments', lbl(k), k.deploymentFrequency.deployments],
    ['cdeventsd_dora_deployment_frequency_per_day', lbl(k), k.deploymentFrequency.perDay],
    ['cdeventsd_dora_lead_time_seconds', lbl(k), k.leadTime.medianSeconds ?? undefined],
    ['cdeventsd_dora_change_failure_ratio', lbl(k), k.changeFailureRate.ratio ?? undefined],
    ['cdeventsd_dora_time_to_restore_seconds', lbl(k), k.timeToRestore.medianSeconds ?? undefined],
    ...['deploymentFrequency', 'leadTime', 'changeFailureRate', 'timeToRestore'].map((key, i) =>
      ['cdeventsd_dora_band', `${lbl(k)},key="${['deployment_frequency', 'lead_time', 'change_failure_rate', 'time_to_restore'][i]}"`,
        k[key].band ? bandValue[k[key].band] : undefined]),
  ];
  for (const [name, labels, v] of expect) {
    const got = gauge(metrics || '', name, labels);
    if (got !== v) wrong.push(`${name}{${labels}} = ${got}, want ${v}`);
  }
}
t.check(wrong.length === 0, 'every DORA gauge has the plan\'s 30-day value (absent without samples)', wrong.join('\n'));
t.check(gauge(metrics || '', 'cdeventsd_dora_window_seconds', '') === undefined &&
  /\ncdeventsd_dora_window_seconds 2592000\n/.test(metrics || '') && /\ncdeventsd_dora_omitted_services 0\n/.test(metrics || ''),
  'the gauges say their window and that no service was left out');

// ---- a reload takes a new failure window ----
fs.writeFileSync(cfg, 'dora:\n  failure_window: 1h\n  window: 30d\n  interval: 1s\n');
const mark = d.log().length;
d.proc.kill('SIGHUP');
t.check(await waitForLog(d, 'configuration reloaded', mark), 'SIGHUP reloads the dora: key', d.log().slice(mark));
r = get('/v1/dora?window=90d');
t.check(r.json?.failureWindowSeconds === 3600 && same(r.json.services, expectedKeys(plan, WINDOWS['90d'], 3600e3)),
  'with a failure window of an hour, only the quicker failures count', r.body.slice(0, 300));
t.check(expectedKeys(plan, WINDOWS['90d'], 3600e3).reduce((n, k) => n + k.changeFailureRate.failed, 0) <
  expectedKeys(plan, WINDOWS['90d']).reduce((n, k) => n + k.changeFailureRate.failed, 0),
  'the history has failures that come later than an hour (the check above means something)');

// ---- what runs where ----
r = get('/v1/environments/prod');
const prod = [...plan.running.entries()].filter(([k]) => k.endsWith(' prod'))
  .map(([k, v]) => ({ service: k.slice(0, -5), ...v })).sort((a, b) => (a.service < b.service ? -1 : 1));
const gotProd = r.json?.services ?? [];
t.check(r.status === 200 && r.json.environment === 'prod' && gotProd.length === prod.length &&
  prod.every((p, i) => gotProd[i].service === p.service && gotProd[i].artifactId === p.artifact &&
    gotProd[i].since === new Date(p.since).toISOString() && gotProd[i].chainId === p.chainId &&
    gotProd[i].change === p.change && (gotProd[i].previous?.artifactId ?? null) === p.previous &&
    gotProd[i].principal === 'anonymous' && gotProd[i].seq > 0),
  'GET /v1/environments/prod: each service\'s artifact, since when, by which chain, and the one before it',
  `\n got  ${JSON.stringify(gotProd)}\n want ${JSON.stringify(prod)}`);
t.check(plan.events.some((e) => e.type === 'service.rolledback') && plan.events.some((e) => e.type === 'incident.detected' &&
  e.content.artifactId) && plan.events.some((e) => e.type === 'incident.detected' && e.content.service),
  'the history has rollbacks, and incidents naming an artifact or a service');
c = ctlRun(['env', 'prod']);
t.check(c.status === 0 && prod.every((p) => c.stdout.split('\n').some((l) => l.startsWith(p.service) &&
  l.includes(p.artifact) && l.includes(p.previous ?? ' - '))), 'cdevctl env prod prints it as a table', c.stdout);

// A rollback posted now puts the previous artifact back, and a removal
// takes the service away.
const api = gotProd.find((s) => s.service === 'shop/api');
const post = (type, content) => curl(['-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary',
  JSON.stringify({ context: { specversion: '0.5.1', id: `${type}-now`, source: '/ci/jenkins', type: `dev.cdevents.service.${type}.0.3.0`,
    timestamp: new Date().toISOString(), chainId: 'rollback-now' }, subject: { id: 'shop/api', content } }), `${d.url}/v1/events`]);
r = post('rolledback', { environment: { id: 'prod' }, artifactId: api.previous.artifactId });
t.check(r.status === 202, 'a rollback is accepted', r.body);
r = get('/v1/environments/prod');
let now = r.json.services.find((s) => s.service === 'shop/api');
t.check(now.artifactId === api.previous.artifactId && now.change === 'rolledback' && now.chainId === 'rollback-now' &&
  now.previous.artifactId === api.artifactId, 'a rollback makes the previous artifact current, and the left one its rollback target',
  JSON.stringify(now));
r = post('removed', { environment: { id: 'prod' } });
r = get('/v1/environments/prod');
t.check(r.status === 200 && !r.json.services.some((s) => s.service === 'shop/api') && r.json.services.length === prod.length - 1,
  'a removed service is no longer listed', r.body.slice(0, 300));
r = get('/v1/environments/nowhere');
t.check(r.status === 200 && same(r.json, { environment: 'nowhere', services: [] }), 'an environment without services is empty', r.body);

// ---- refusals name the parameter ----
for (const [q, ptr] of [['window=5x', '/query/window'], ['window=0d', '/query/window'], ['env=prod', '/query/env'],
  ['service=', '/query/service'], ['until=yesterday', '/query/until'], ['until=2999-01-01T00:00:00Z', '/query/until']]) {
  r = get(`/v1/dora?${q}`);
  t.check(r.status === 400 && r.json?.details?.[0]?.pointer === ptr, `GET /v1/dora?${q} is refused at ${ptr}`, r.body);
}
r = get('/v1/environments/prod?limit=3');
t.check(r.status === 400 && r.json?.details?.[0]?.pointer === '/query', 'GET /v1/environments/{env} takes no parameters', r.body);
{
  const at = new Date(Math.floor((plan.now - 28 * 86400e3) / 1000) * 1000).toISOString();
  c = ctlRun(['dora', '--window', '30d', '--until', at, '--json']);
  t.check(c.status === 0 && same(JSON.parse(c.stdout || '{}').services, get(`/v1/dora?window=30d&until=${encodeURIComponent(at)}`).json.services),
    'cdevctl dora --until gives the keys of the window ending then', c.stderr);
  c = ctlRun(['dora', '--until', 'last week']);
  t.check(c.status === 2 && /until/.test(c.stderr), 'cdevctl dora reports a refused --until', c.stderr);
}
c = ctlRun(['dora', '--window', 'forever']);
t.check(c.status === 2 && /window/.test(c.stderr), 'cdevctl dora reports a refused window', c.stderr);

t.check(await d.stop() === 0, 'the daemon exits 0 on SIGTERM', d.log().slice(-2000));

// ---- the gauges keep to metrics.max_series ----
// 9 series a family: one is the registry's "other", and each service
// and environment takes 4 in the band family, so 2 of the 6 are shown.
fs.writeFileSync(cfg, 'metrics:\n  max_series: 9\ndora:\n  interval: 1s\n');
const d2 = await startDaemon(bin, ['-c', cfg, '--state-dir', d.stateDir]);
const m2 = await waitFor(() => {
  const m = curl([`${d2.url}/metrics`]);
  return /\ncdeventsd_dora_omitted_services 4\n/.test(m.body) ? m.body : null;
}, 15000, { every: 200 });
const series = (m2 || '').split('\n').filter((l) => l.startsWith('cdeventsd_dora_band{'));
t.check(m2 && series.length <= 8 && !/other/.test(series.join()) &&
  (m2.match(/^cdeventsd_dora_deployments\{/gm) || []).length === 2,
  'past metrics.max_series, services are left out and counted, never folded into "other"', series.join('\n'));
t.check(await d2.stop() === 0, 'the second daemon exits 0', d2.log().slice(-2000));
console.log(`${events.length} events, ${((Date.now() - began) / 1000).toFixed(1)} s`);
t.finish();
