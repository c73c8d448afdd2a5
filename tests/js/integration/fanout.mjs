// Fan-out: routed events reach real receivers on loopback as CloudEvents.
//
// One node process plays four receivers: a Tekton EventListener (binary
// mode, answers 202 with an eventID), a signed structured webhook, a
// binary webhook with a bearer token and extra headers that only prod
// deployments are routed to, and a flaky receiver that answers 500, then
// 503 with Retry-After, then too slowly (timeout), then 200. Each request
// is read back with the CloudEvents SDK's HTTP.toEvent, validated as a
// CloudEvent, its data checked with ajv against the official schema, and
// its Standard Webhooks signature checked with node's own crypto. Then the
// daemon is stopped while a receiver is down and restarted: the backlog
// arrives. A receiver that refuses (400) fills the dead letters.
//
//   node tests/js/integration/fanout.mjs path/to/cdeventsd path/to/cdevctl
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { HTTP } from 'cloudevents';
import { startDaemon, postJson, curl, checker, waitFor, waitForSinks, auditDb } from '../daemon.mjs';
import { oracle } from '../oracle.mjs';

const t = checker();
const [bin, cdevctl] = process.argv.slice(2, 4);
const ajv = oracle('v0.5.1');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-fanout-'));
const secretBytes = crypto.randomBytes(32);
const secretFile = path.join(dir, 'hook.secret');
fs.writeFileSync(secretFile, `whsec_${secretBytes.toString('base64')}\n`, { mode: 0o600 });
const tokenFile = path.join(dir, 'hook.token');
fs.writeFileSync(tokenFile, 'opensesame\n', { mode: 0o600 });

// --- receivers -------------------------------------------------------------
const got = { tekton: [], signed: [], prod: [], flaky: [], refuse: [] };
let flakyPlan = [];          // what the flaky receiver does next: status or 'hang'
let flakyAttempts = 0;
let tektonDown = false;
let refuseNow = true;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const name = req.url.slice(1);
    const rec = { headers: req.headers, body };
    if (name === 'tekton') {
      if (tektonDown) { res.destroy(); return; }
      got.tekton.push(rec);
      res.writeHead(202, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ eventListener: 'el', namespace: 'ci', eventListenerUID: 'u', eventID: `tk-${got.tekton.length}` }));
    } else if (name === 'flaky') {
      flakyAttempts++;
      const next = flakyPlan.shift() ?? 200;
      if (next === 'hang') { setTimeout(() => { got.flaky.push({ ...rec, late: true }); res.writeHead(200); res.end(); }, 2500); return; }
      if (next === 200) got.flaky.push(rec);
      res.writeHead(next, next === 503 ? { 'Retry-After': '1' } : {});
      res.end(next === 200 ? '' : 'not now');
    } else if (got[name]) {
      got[name].push(rec);
      const no = name === 'refuse' && refuseNow;
      res.writeHead(no ? 400 : 200);
      res.end(no ? 'bad event' : '');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `
sinks:
  - name: ci-listener
    type: tekton
    url: ${base}/tekton
    timeout: 1s
  - name: audit-hook
    type: webhook
    url: ${base}/signed
    mode: structured
    secret_file: ${secretFile}
  - name: prod-hook
    type: webhook
    url: ${base}/prod
    token_file: ${tokenFile}
    headers: { X-Team: data-platform }
  - name: flaky
    type: webhook
    url: ${base}/flaky
    timeout: 1s
    max_backoff: 1s
  - name: refuse
    type: webhook
    url: ${base}/refuse
  - name: shipper
    type: file
    path: ${path.join(dir, 'events.jsonl')}
    rotate_size: 2KiB
    rotate_keep: 20
routes:
  - sinks: [shipper]
  - sinks: [ci-listener]
    filter: { prefix: { type: dev.cdevents.artifact. } }
  - sinks: [audit-hook]
  - sinks: [refuse]
    filter: { not: { prefix: { type: dev.cdevents.pipelinerun. } } }
  - sinks: [flaky]
    filter: { prefix: { type: dev.cdevents.pipelinerun. } }
  - sinks: [prod-hook]
    filter: { all: [ { exact: { type: dev.cdevents.service.deployed } }, { exact: { /subject/content/environment/id: prod } } ] }
`);
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-fanout-state-'));
let d = await startDaemon(bin, ['-c', cfg, '--state-dir', state]);
const hook = (kind, p) => postJson(`${d.url}/v1/hooks/${kind}`, p);

// Refuse and flaky get only a few events: keep them quiet until needed.
const posted = [
  hook('build', { phase: 'finished', subject: 'etl-42', artifactId: 'pkg:oci/etl@sha256%3Aabc' }),
  hook('artifact', { phase: 'packaged', subject: 'pkg:oci/etl@sha256%3Aabc', change: 'commit-1' }),
  hook('artifact', { phase: 'published', subject: 'pkg:oci/etl@sha256%3Aabc' }),
  hook('deploy', { phase: 'deployed', subject: 'etl-job', environment: 'dev', artifactId: 'pkg:oci/etl@sha256%3Aabc' }),
  hook('deploy', { phase: 'deployed', subject: 'etl-job', environment: 'prod', artifactId: 'pkg:oci/etl@sha256%3Aabc' }),
];
t.check(posted.every((r) => r.status === 202), 'five hooks accepted', posted.map((r) => r.status).join());
const ids = posted.map((r) => r.json.id);
t.check(await waitFor(() => got.tekton.length >= 2 && got.signed.length >= 5 && got.prod.length >= 1 &&
  got.refuse.length >= 5, 10000),
'each routed event reaches its receivers', JSON.stringify({ tekton: got.tekton.length, signed: got.signed.length,
  prod: got.prod.length, refuse: got.refuse.length }));

// Tekton: binary mode, only artifact events, Ce-Type for CEL filters.
t.check(got.tekton.length === 2 && got.tekton.every((r) => r.headers['ce-type']?.startsWith('dev.cdevents.artifact.')),
  'the EventListener gets only the artifact events', got.tekton.map((r) => r.headers['ce-type']).join());
for (const [name, list] of Object.entries({ tekton: got.tekton, signed: got.signed, prod: got.prod })) {
  for (const r of list) {
    // The binding percent-encodes '%' in header values and receivers
    // decode; the JS SDK (8.0.3) leaves ce-subject as sent, hence the
    // decodeURIComponent below for binary mode.
    let ce = null, err = '';
    try { ce = HTTP.toEvent({ headers: r.headers, body: r.body }); ce.validate(); } catch (e) { err = String(e); }
    const data = typeof ce?.data === 'string' ? JSON.parse(ce.data) : ce?.data;
    const verdict = data ? ajv(data) : { valid: false };
    t.check(ce && !err && verdict.valid && ce.id === data.context.id && ce.source === data.context.source &&
      ce.type === data.context.type &&
      (r.headers['ce-subject'] !== undefined ? decodeURIComponent(ce.subject) : ce.subject) === data.subject.id,
      `${name}: a valid CloudEvent whose data the official schema accepts`, err || JSON.stringify(verdict.errors));
  }
}
t.check(got.tekton.every((r) => r.headers['content-type'] === 'application/json' && r.headers['ce-specversion'] === '1.0'),
  'tekton requests are binary mode');
t.check(got.signed.every((r) => r.headers['content-type'].startsWith('application/cloudevents+json')),
  'the structured webhook gets application/cloudevents+json');

// Standard Webhooks, checked with node's crypto, not ours.
const sigOk = (r) => {
  const id = r.headers['webhook-id'], ts = r.headers['webhook-timestamp'];
  const want = crypto.createHmac('sha256', secretBytes).update(`${id}.${ts}.${r.body}`).digest('base64');
  return r.headers['webhook-signature'] === `v1,${want}` && Math.abs(Date.now() / 1000 - Number(ts)) < 60;
};
t.check(got.signed.length === 5 && got.signed.every(sigOk), 'every signed webhook verifies with node crypto',
  JSON.stringify(got.signed[0]?.headers));
t.check(new Set(got.signed.map((r) => r.headers['webhook-id'])).size === 5, 'each event has its own webhook-id');

// Routing on a JSON pointer: only the prod deployment; token and headers.
t.check(got.prod.length === 1 && JSON.parse(got.prod[0].body).subject.content.environment.id === 'prod',
  'the prod route gets only the prod deployment', got.prod.map((r) => r.body).join('\n'));
t.check(got.prod[0]?.headers.authorization === 'Bearer opensesame' && got.prod[0]?.headers['x-team'] === 'data-platform',
  'with its bearer token and configured header', JSON.stringify(got.prod[0]?.headers));
t.check(got.refuse.length === 5, 'a refusing receiver is tried once per event (400 is permanent)', String(got.refuse.length));

// Status: cursors, deliveries, dead letters (refreshed once a second).
let st = await waitForSinks(d, {
  'ci-listener': (s) => s.delivered === 2 && s.lagEvents === 0,
  refuse: (s) => s.deadLetters === 5 && s.lastError,
});
const sink = (n) => st?.sinks?.find((s) => s.name === n);
t.check(sink('ci-listener')?.delivered === 2 && sink('ci-listener')?.lagEvents === 0,
  'GET /v1/sinks: the listener is caught up', JSON.stringify(sink('ci-listener')));
t.check(sink('refuse')?.deadLetters === 5 && /HTTP 400/.test(sink('refuse')?.lastError ?? ''),
  'GET /v1/sinks: refused events are dead letters, with the last error', JSON.stringify(sink('refuse')));

// From the CDEvent to the Tekton event: the delivery record keeps the
// EventListener's eventID.
const rec = curl([`${d.url}/v1/events/${ids[1]}`]).json?.events?.[0];
const toTekton = rec?.deliveries?.find((x) => x.sink === 'ci-listener');
t.check(toTekton && toTekton.status === 202 && /^tk-\d+$/.test(toTekton.receipt) && toTekton.deliveredAt,
  'GET /v1/events/{id} lists its deliveries with the EventListener\'s eventID', JSON.stringify(rec?.deliveries));
t.check(rec?.deliveries?.some((x) => x.sink === 'audit-hook' && x.status === 200 && x.receipt === null),
  'and the webhook delivery (no receipt)', JSON.stringify(rec?.deliveries));

// Dead letters: listed with why, and delivered again on request.
const db = auditDb(state);
const dlq = (...args) => spawnSync(cdevctl, ['dlq', ...args, '--db', db], { encoding: 'utf8' });
let out = dlq('list', '--json');
const dead = out.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
t.check(out.status === 0 && dead.length === 5 && dead.every((x) => x.sink === 'refuse' && /refused: HTTP 400/.test(x.error)),
  'cdevctl dlq list shows the refused events and why', out.stdout + out.stderr);
t.check(dlq('replay').status === 2, 'cdevctl dlq replay wants --sink, --id or --all');
refuseNow = false;
out = dlq('replay', '--sink', 'refuse', '--id', dead[0].id);
t.check(out.status === 0 && /1 dead letters queued/.test(out.stdout), 'one event can be replayed', out.stdout + out.stderr);
out = dlq('replay', '--sink', 'refuse');
t.check(out.status === 0 && /4 dead letters queued/.test(out.stdout), 'then the rest of the sink', out.stdout + out.stderr);
t.check(await waitFor(() => got.refuse.length === 10, 10000), 'the running daemon delivers the replays', String(got.refuse.length));
st = await waitForSinks(d, { refuse: (s) => s.deadLetters === 0 && s.delivered === 5 });
t.check(sink('refuse')?.deadLetters === 0 && sink('refuse')?.delivered === 5, 'and the dead letters are gone',
  JSON.stringify(sink('refuse')));
t.check(dlq('list', '--json').stdout.trim() === '', 'cdevctl dlq list is empty again');

// The flaky receiver: 500, then 503 + Retry-After, then a timeout, then 200.
flakyPlan = [500, 503, 'hang', 200];
flakyAttempts = 0;
const before = got.flaky.length;
const f = hook('pipeline', { phase: 'started', subject: 'run-flaky', pipelineName: 'etl', uri: 'https://ci.example/runs/1' });
t.check(f.status === 202, 'a pipeline run is accepted', f.body);
t.check(await waitFor(() => got.flaky.length > before + 0 && !got.flaky.at(-1).late, 20000),
  'through 500, 503 with Retry-After and a timeout, the event arrives', `attempts ${flakyAttempts}`);
// Let the slow answer land too, and the sink finish with the event: any
// extra copy would have been sent by then.
await waitFor(() => got.flaky.some((r) => r.late), 20000);
await waitForSinks(d, { flaky: (s) => s.lagEvents === 0 && s.inFlight === 0 && s.waitingRetry === 0 });
const arrivals = got.flaky.filter((r) => JSON.parse(r.body).context.id === f.json.id);
t.check(flakyAttempts >= 4, 'it took at least four attempts', String(flakyAttempts));
t.check(arrivals.length <= 2 && arrivals.filter((r) => !r.late).length === 1,
  'it arrives once, plus at most the late copy of the attempt that timed out', String(arrivals.length));

// Down while the daemon restarts: nothing is lost.
tektonDown = true;
const during = [];
for (let i = 0; i < 5; i++) during.push(hook('artifact', { phase: 'published', subject: `pkg:generic/lib@${i}` }).json.id);
// Stop once the daemon has tried the listener and failed.
await waitForSinks(d, { 'ci-listener': (s) => s.lastError !== null && s.lagEvents > 0 });
t.check(await d.stop() === 0, 'the daemon stops cleanly with deliveries pending');
tektonDown = false;
d = await startDaemon(bin, ['-c', cfg, '--state-dir', state]);
const tkIds = () => new Set(got.tekton.map((r) => JSON.parse(r.body).context.id));
t.check(await waitFor(() => during.every((id) => tkIds().has(id)), 20000),
  'after a restart, the backlog reaches the listener', `${[...tkIds()].length} ids`);
st = await waitForSinks(d, { 'ci-listener': (s) => s.lagEvents === 0 });
t.check(sink('ci-listener')?.lagEvents === 0, 'and the listener is caught up again', JSON.stringify(sink('ci-listener')));
// The file sink: JSON Lines, rotated past 2 KiB, every event once (once
// its cursor has caught up).
await waitForSinks(d, { shipper: (s) => s.lagEvents === 0 });
const files = fs.readdirSync(dir).filter((f) => f.startsWith('events.jsonl'));
const lines = files.flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean));
const inFile = lines.map((l) => JSON.parse(l));
const accepted = JSON.parse(spawnSync(cdevctl, ['audit', 'query', '--db', db], { encoding: 'utf8' }).stdout
  .split('\n').filter(Boolean).map((l) => JSON.stringify(JSON.parse(l).event.context.id)).join(',').replace(/^/, '[').replace(/$/, ']'));
t.check(files.length > 1 && files.includes('events.jsonl.1'), 'the file sink rotates past rotate_size', files.join());
t.check(inFile.every((e) => ajv(e).valid), 'every line is a CDEvent the official schema accepts');
t.check(new Set(inFile.map((e) => e.context.id)).size === accepted.length &&
  accepted.every((id) => inFile.some((e) => e.context.id === id)),
  'and every accepted event is in the files', `${inFile.length} lines, ${accepted.length} events`);
t.check(await d.stop() === 0, 'exits 0 on SIGTERM', d.log().slice(-300));
server.close();
void ids;
t.finish();
