// The nats sink: events published to a real NATS JetStream server
// (Debian's nats-server, started here on loopback with its own store) in
// the CloudEvents NATS binding, read back with the npm nats client and
// checked with the CloudEvents SDK. Then the server is stopped while
// events keep coming, and restarted on the same store: the backlog
// arrives, nothing is lost, and re-sent events are dropped by the stream
// (Nats-Msg-Id is the event's id). Before the stream exists, events wait
// for a retry with the reason named. A daemon started while NATS is down
// starts and delivers once it is up.
//
//   node tests/js/integration/nats.mjs path/to/cdeventsd path/to/cdevctl
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HTTP } from 'cloudevents';
import { connect, nanos } from 'nats';
import { startDaemon, postJson, curl, checker, waitFor, waitForSinks, freePort } from '../daemon.mjs';
import { oracle } from '../oracle.mjs';
import { startNats, readStream } from '../nats-server.mjs';

const t = checker();
const [bin] = process.argv.slice(2, 3);
const ajv = oracle('v0.5.1');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-nats-'));
const port = await freePort();
const natsUrl = `nats://127.0.0.1:${port}`;

let server = await startNats(dir, port);
let nc = await connect({ servers: natsUrl });
let jsm = await nc.jetstreamManager();

const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `
sinks:
  - name: bus
    type: nats
    url: ${natsUrl}
    subject: "cdevents.{subject-type}.{predicate}"
    stream: CDEVENTS
    timeout: 1s
    max_backoff: 1s
    max_attempts: 1000
routes:
  - sinks: [bus]
`);
let d = await startDaemon(bin, ['-c', cfg]);
const hook = (kind, p) => postJson(`${d.url}/v1/hooks/${kind}`, p);
const postBuilds = (from, n) => {
  const ids = [];
  for (let i = from; i < from + n; i++) {
    const r = hook('build', { phase: 'finished', subject: `etl-${i}`, artifactId: `pkg:oci/etl@sha256%3Aa${i}` });
    if (r.status === 202) ids.push(r.json.id);
  }
  return ids;
};

// --- no stream yet: retried, and the reason named ------------------------------
const early = postBuilds(0, 1);
let st = await waitForSinks(d, { bus: (s) => /no stream CDEVENTS/.test(s.lastError ?? '') }, 10000);
const bus = () => st?.sinks?.find((s) => s.name === 'bus');
t.check(/no stream CDEVENTS takes subject/.test(bus()?.lastError ?? '') && bus()?.delivered === 0 && bus()?.deadLetters === 0,
  'without a stream the event waits for a retry, the reason named', JSON.stringify(bus()));
await jsm.streams.add({ name: 'CDEVENTS', subjects: ['cdevents.>'], duplicate_window: nanos(10 * 60 * 1000) });

// --- published while the server is up ---------------------------------------
const first = [...early, ...postBuilds(1, 4)];
const deploy = hook('deploy', { phase: 'deployed', subject: 'etl-job', environment: 'prod',
  artifactId: 'pkg:oci/etl@sha256%3Aabc' });
const accepted = [...first, deploy.json?.id];
t.check(first.length === 5 && deploy.status === 202, 'six hooks accepted');
st = await waitForSinks(d, { bus: (s) => s.delivered === 6 && s.lagEvents === 0 });
t.check(bus()?.delivered === 6 && bus()?.lagEvents === 0, 'GET /v1/sinks: all six delivered (acked by the stream)',
  JSON.stringify(bus()));

const rec = curl([`${d.url}/v1/events/${first[0]}`]).json?.events?.[0];
t.check(/^CDEVENTS:\d+$/.test(rec?.deliveries?.find((x) => x.sink === 'bus')?.receipt ?? ''),
  'GET /v1/events/{id}: the delivery\'s receipt is the stream and its sequence', JSON.stringify(rec?.deliveries));

let msgs = await readStream(jsm, 'CDEVENTS');
t.check(msgs.length === 6, 'the stream holds each event once', String(msgs.length));
t.check(msgs.filter((m) => m.subject === 'cdevents.build.finished').length === 5 &&
  msgs.filter((m) => m.subject === 'cdevents.service.deployed').length === 1,
'subjects follow the template cdevents.{subject-type}.{predicate}', msgs.map((m) => m.subject).join());
for (const m of msgs) {
  let ce = null, err = '';
  try { ce = HTTP.toEvent({ headers: m.headers, body: m.body }); ce.validate(); } catch (e) { err = String(e); }
  const data = typeof ce?.data === 'string' ? JSON.parse(ce.data) : ce?.data;
  t.check(ce && !err && ajv(data).valid && ce.id === data.context.id && ce.type === data.context.type &&
    ce.source === data.context.source && ce.time && decodeURIComponent(ce.subject) === data.subject.id,
  'a valid CloudEvent (binary mode) whose data the official schema accepts', err || m.body.slice(0, 200));
  t.check(m.headers['nats-msg-id'] === data?.context.id && m.headers['content-type'] === 'application/json' &&
    m.headers['ce-specversion'] === '1.0', 'Nats-Msg-Id is the event id; the payload is application/json',
  JSON.stringify(m.headers));
}
t.check(accepted.every((id) => msgs.some((m) => m.headers['ce-id'] === id)), 'every accepted event is there');

// --- the server goes away, events keep coming --------------------------------
await nc.close();
await server.stop();
const during = postBuilds(100, 20);
t.check(during.length === 20, 'hooks are accepted while NATS is down');
st = await waitForSinks(d, { bus: (s) => s.lagEvents > 0 && s.lastError }, 10000);
t.check(bus()?.lagEvents > 0 && bus()?.lastError, 'GET /v1/sinks: the sink lags and says why', JSON.stringify(bus()));

server = await startNats(dir, port);
const after = postBuilds(200, 5);
accepted.push(...during, ...after);
st = await waitForSinks(d, { bus: (s) => s.delivered === accepted.length && s.lagEvents === 0 }, 30000);
t.check(bus()?.delivered === accepted.length && bus()?.lagEvents === 0,
  'after the restart the backlog is delivered', JSON.stringify(bus()));
nc = await connect({ servers: natsUrl });
jsm = await nc.jetstreamManager();
msgs = await readStream(jsm, 'CDEVENTS');
const unique = new Set(msgs.map((m) => m.headers['ce-id']));
t.check(accepted.every((id) => unique.has(id)), 'nothing is lost',
  `${accepted.filter((id) => !unique.has(id)).length} of ${accepted.length} missing`);
t.check(msgs.length === unique.size && unique.size === accepted.length,
  'and nothing is there twice (re-sends dropped by Nats-Msg-Id)', `${msgs.length} messages, ${unique.size} ids`);
console.log(`nats: ${accepted.length} events, ${msgs.length} messages in the stream, ${unique.size} unique ids`);

// Stopping while publishes wait for an ack that cannot come.
await nc.close();
await server.stop();
postBuilds(300, 3);
st = await waitForSinks(d, { bus: (s) => s.inFlight > 0 || s.waitingRetry > 0 }, 10000);
t.check(bus()?.inFlight > 0 || bus()?.waitingRetry > 0, 'events are held for NATS', JSON.stringify(bus()));
t.check(await d.stop() === 0, 'the daemon exits 0 on SIGTERM with publishes unacked', d.log().slice(-300));

// A daemon started while NATS is down starts (cnats retries on its own
// thread, not on the loop) and delivers once the server is back.
d = await startDaemon(bin, ['-c', cfg]);
const whileDown = postBuilds(400, 2);
t.check(whileDown.length === 2, 'a daemon starts and takes hooks while NATS is down');
server = await startNats(dir, port);
st = await waitForSinks(d, { bus: (s) => s.delivered === 2 && s.lagEvents === 0 }, 20000);
t.check(bus()?.delivered === 2 && bus()?.lagEvents === 0, 'once NATS is up they are delivered', JSON.stringify(bus()));
t.check(!bus()?.recovered?.error || /^not connected to NATS: /.test(bus().recovered.error),
  'what held them was named as the missing connection', JSON.stringify(bus()?.recovered));
t.check(await d.stop() === 0, 'the daemon exits 0', d.log().slice(-300));
await server.stop();
fs.rmSync(dir, { recursive: true, force: true });
t.finish();
