// upgrade_to: "0.5.1": a sink that asks gets events of the older releases
// in 0.5.1 shape (valid for ajv on the official 0.5.1 schemas), binary
// webhooks with the CloudEvents attribute cdeupgradedfrom; a sink that does
// not ask, and the audit log, keep every event exactly as received. A
// field 0.5.1 has no place for is named in a log line; a type 0.5.1 no
// longer has goes out as received, with a line saying why. A config asking
// for any other release is refused by --check-config, naming the key.
//
//   node tests/js/integration/upgrade.mjs path/to/cdeventsd
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, postJson, curl, checker, waitFor, waitForLog } from '../daemon.mjs';
import { oracle, conformanceExamples, schemaExamples, customExample } from '../oracle.mjs';

const t = checker();
const bin = process.argv[2];
const ajv = oracle('v0.5.1');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-upgrade-'));
const upFile = path.join(dir, 'upgraded.jsonl');
const asIsFile = path.join(dir, 'as-received.jsonl');

const hooks = [];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => { hooks.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }); res.writeHead(200); res.end(); });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));

const cfg = path.join(dir, 'cdeventsd.yaml');
// The official examples name a schemaUri nobody publishes.
fs.writeFileSync(cfg, `
schemas:
  unknown_schema_uri: accept
sinks:
  - name: upgraded
    type: file
    path: ${upFile}
    upgrade_to: "0.5.1"
  - name: as-received
    type: file
    path: ${asIsFile}
  - name: upgraded-hook
    type: webhook
    url: http://127.0.0.1:${server.address().port}/events
    upgrade_to: "0.5.1"
routes:
  - sinks: [upgraded, as-received, upgraded-hook]
`);

// What the Jenkins CDEvents plugin (sdk-java 0.1.2) sends.
const jenkins = (id, type, content) => ({
  context: { version: '0.1.2', id, source: '/jenkins/etl', type, timestamp: '2026-01-02T03:04:05Z' },
  subject: { id: 'job/etl/7', type: 'pipelineRun', content },
});
const started = jenkins('jk-started', 'dev.cdevents.pipelinerun.started.0.1.0',
  { pipelineName: 'etl', url: 'https://jenkins.example/job/etl/7' });
const finished = jenkins('jk-finished', 'dev.cdevents.pipelinerun.finished.0.1.0',
  { pipelineName: 'etl', url: 'https://jenkins.example/job/etl/7', outcome: 'UNSTABLE' });
const v030 = conformanceExamples('v0.3.0').find(({ file }) => file.endsWith('testcaserun_finished.json')).event;
const gone = {
  context: { version: '0.2.0', id: 'old-test', source: '/ci', type: 'dev.cdevents.testcase.started.0.1.1',
    timestamp: '2026-01-02T03:04:05Z' },
  subject: { id: 't', type: 'testCase', content: {} },
};
const example = conformanceExamples('v0.5.1').find(({ file }) => file.endsWith('build_queued.json')).event;
const current = { ...example, context: { ...example.context, id: 'current-0.5.1' } };
const posted = [started, finished, v030, gone, current];

const d = await startDaemon(bin, ['-c', cfg]);
for (const e of posted) {
  const r = postJson(`${d.url}/v1/events`, e);
  t.check(r.status === 202, `a ${e.context.version ?? e.context.specversion} event is accepted as received`, r.body);
}

const lines = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);
await waitFor(() => lines(upFile).length === posted.length && lines(asIsFile).length === posted.length &&
  hooks.length === posted.length, 10000);
const up = lines(upFile), asIs = lines(asIsFile);
t.check(up.length === posted.length && asIs.length === posted.length, 'both file sinks get every event',
  `${up.length} ${asIs.length}`);

// The sink without upgrade_to: byte for byte what was posted.
posted.forEach((e, i) => t.check(asIs[i] === JSON.stringify(e),
  `the sink without upgrade_to writes ${e.context.id} as received`, asIs[i]));

// The sink with upgrade_to: 0.5.1, valid for ajv, same id, source, time.
const byId = new Map(up.map((l) => JSON.parse(l)).map((e) => [e.context.id, e]));
for (const e of [started, finished, v030]) {
  const u = byId.get(e.context.id);
  const v = u ? ajv(u) : { valid: false, errors: 'missing' };
  t.check(v.valid && u.context.specversion === '0.5.1' && u.context.version === undefined,
    `${e.context.version} ${e.context.type} is written as a valid 0.5.1 event`, JSON.stringify(v.errors ?? u));
  t.check(u && u.context.source === e.context.source && u.context.timestamp === e.context.timestamp &&
    u.subject.id === e.subject.id && u.subject.type === undefined,
    `${e.context.id} keeps source, timestamp and subject id, and loses subject.type`, JSON.stringify(u));
}
t.check(byId.get('jk-started')?.context.type === 'dev.cdevents.pipelinerun.started.0.3.0' &&
  byId.get('jk-started')?.subject.content.uri === started.subject.content.url,
  'the Jenkins pipelinerun.started.0.1.0 becomes pipelinerun.started.0.3.0 with url as uri');
t.check(byId.get('jk-finished') && !('outcome' in byId.get('jk-finished').subject.content),
  'an outcome outside 0.5.1\'s enum (UNSTABLE) is dropped');
t.check(byId.get(v030.context.id)?.subject.content.outcome === 'success', 'a 0.3.0 test outcome "pass" becomes "success"');
t.check(up.includes(JSON.stringify(gone)) && up.includes(JSON.stringify(current)),
  'a type 0.5.1 no longer has, and a 0.5.1 event, go to the upgrading sink as received');

// Binary webhook: the release it came from, as a CloudEvents attribute.
const hookFor = (id) => hooks.find((h) => JSON.parse(h.body).context.id === id);
t.check(hookFor('jk-started')?.headers['ce-cdeupgradedfrom'] === '0.1.2' &&
  hookFor(v030.context.id)?.headers['ce-cdeupgradedfrom'] === '0.3.0',
  'an upgraded event carries ce-cdeupgradedfrom: the release it was received in');
t.check(hookFor(current.context.id) && !('ce-cdeupgradedfrom' in hookFor(current.context.id).headers),
  'an event sent as received has no ce-cdeupgradedfrom');

// The audit log keeps the received form.
const stored = await (await fetch(`${d.url}/v1/events/jk-started`)).json();
t.check(JSON.stringify(stored.events?.[0]?.event) === JSON.stringify(started),
  'the audit log keeps the 0.1.2 event as received', JSON.stringify(stored));

// What was dropped, and what was not upgraded, is said per sink and event.
t.check(await waitForLog(d, /event upgraded to 0\.5\.1 without fields.*sink=upgraded\b.*jk-finished.*\/subject\/content\/outcome/),
  'a log line names the sink, the event and the dropped pointer', d.log());
t.check(await waitForLog(d, /event sent as received: no 0\.5\.1 form.*old-test.*testcaserun/),
  'a log line says why a type 0.5.1 no longer has goes out as received');

// The sinks' status, which /metrics reads, is at most a second old.
let metrics = '';
const counted = await waitFor(() => {
  metrics = curl([`${d.url}/metrics`]).body;
  return /cdeventsd_sink_upgrades_total\{sink="upgraded",from="0\.1\.2"\} 2\b/.test(metrics) &&
    /cdeventsd_sink_upgrade_dropped_fields_total\{sink="upgraded"\} 1\b/.test(metrics);
}, 5000, { every: 200 });
t.check(counted,
  '/metrics counts upgrades per sink and release, and dropped fields', metrics.split('\n').filter((l) => l.includes('upgrade')).join('\n'));
// Every official example (0.3.0, 0.4.1 and its custom event) and an event
// of every 0.2.0 and 0.1.2 type built from its schema: each comes out
// valid for ajv on 0.5.1, or as received when 0.5.1 has no form for it.
const all = [
  ...['v0.3.0', 'v0.4.1'].flatMap((v) => conformanceExamples(v).map(({ event }) => [v, event])),
  ['v0.4.1', customExample('v0.4.1').event],
  ...['v0.2.0', 'v0.1.2'].flatMap((v) => schemaExamples(v).map(({ event }) => [v, event])),
].map(([v, e], i) => ({ ...e, context: { ...e.context, id: `all-${v}-${i}` } }));
const refusedAll = [];
for (const e of all) {
  const r = await fetch(`${d.url}/v1/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(e) });
  if (r.status !== 202) refusedAll.push(`${e.context.id} ${r.status} ${await r.text()}`);
}
t.check(refusedAll.length === 0, `all ${all.length} older examples are accepted`, refusedAll.join('\n'));
await waitFor(() => lines(upFile).filter((l) => l.includes('"all-')).length === all.length, 20000);
const upAll = lines(upFile).map((l) => JSON.parse(l)).filter((e) => e.context.id.startsWith('all-'));
const invalid = [], asReceived = [];
for (const u of upAll) {
  if (u.context.specversion !== '0.5.1') { asReceived.push(u.context.type); continue; }
  const v = ajv(u);
  if (!v.valid) invalid.push(`${u.context.id} ${u.context.type}: ${JSON.stringify(v.errors)}`);
}
t.check(upAll.length === all.length && invalid.length === 0,
  `every older example the upgrading sink writes in 0.5.1 shape is valid for ajv (${upAll.length - asReceived.length})`,
  invalid.slice(0, 5).join('\n'));
// The schema-built events' url is "url-1", not an absolute URI: where
// 0.5.1 requires a uri there is no 0.5.1 form.
const noForm = /\.(testcase|testsuite)\.|\.pipelinerun\.started\.|\.repository\.created\./;
t.check(asReceived.length > 0 && asReceived.every((type) => noForm.test(type)),
  'only types 0.5.1 dropped, or whose required uri 0.5.1 refuses, go out as received', asReceived.join(' '));

t.check(await d.stop() === 0, 'the daemon stops cleanly');
server.close();

// Only 0.5.1 can be asked for.
const bad = path.join(dir, 'bad.yaml');
fs.writeFileSync(bad, `sinks:\n  - {name: s, type: file, path: ${upFile}, upgrade_to: "0.4.1"}\nroutes:\n  - sinks: [s]\n`);
const checked = spawnSync(bin, ['--check-config', bad], { encoding: 'utf8' });
t.check(checked.status !== 0 && /\/sinks\/0\/upgrade_to.*"0\.4\.1" is not a release events can be upgraded to \(only "0\.5\.1"\)/
  .test(checked.stderr), 'cdeventsd --check-config refuses upgrade_to: "0.4.1", naming the key', checked.stderr);

t.finish();
