// Authentication is decided from the head, before any body is read: a
// request the daemon will refuse (no or a wrong credential, a scope it
// lacks, an unknown route or method) is answered at once and its body is
// never buffered, so hundreds of stalled uploads without a token cost the
// daemon next to nothing. Bodies of allowed requests share a cap on the
// bytes in flight: past it, 503 with Retry-After at the head.
//
//   node tests/js/integration/stalled-uploads.mjs path/to/cdeventsd
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, checker, statusOf, waitFor, serverSockets } from '../daemon.mjs';

const t = checker();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-stalled-'));
const file = (name, text) => { const p = path.join(dir, name); fs.writeFileSync(p, text, { mode: 0o600 }); return p; };
const token = crypto.randomBytes(24).toString('hex');
const readerToken = crypto.randomBytes(24).toString('hex');
const BODY = 1000000;
const cfg = file('cdeventsd.yaml', `principals:
  - name: jenkins
    scopes: [emit]
    token_file: ${file('jenkins.token', token + '\n')}
  - name: reader
    scopes: [query]
    token_file: ${file('reader.token', readerToken + '\n')}
  - name: tekton
    webhook_secret_files:
      - ${file('wh', 'whsec_' + crypto.randomBytes(32).toString('base64'))}
limits:
  bodies_in_flight_max: 4MiB
  max_connections_per_address: 1000
  max_connections: 2000
`);
const d = await startDaemon(process.argv[2], ['-c', cfg, '--state-dir', path.join(dir, 'state')]);
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${d.proc.pid}/status`, 'utf8'))[1]) / 1024;

// A valid hook of exactly @size bytes, as a Buffer (sent by reference).
const hookOf = (size, subject = 'stalled') => {
  const base = JSON.stringify({ phase: 'started', subject, customData: { pad: '' } });
  return Buffer.from(base.replace('"pad":""', `"pad":"${'p'.repeat(size - base.length)}"`));
};
const bigHook = hookOf(BODY);

// Starts an upload: the head, then the first @sent bytes of the body, and
// no more until .finish(). Resolves with the socket once connected; the
// socket's .reply grows, .answeredMs is when the first reply byte came.
function upload({ headers = [], target = '/v1/hooks/build', method = 'POST', body = bigHook, sent = 65536,
  from = '127.0.0.1', chunked = false } = {}) {
  return new Promise((resolve) => {
    const s = net.connect({ host: d.host, port: d.port, localAddress: from });
    const t0 = Date.now();
    s.reply = '';
    s.on('data', (c) => { if (!s.reply) s.answeredMs = Date.now() - t0; s.reply += c; });
    s.on('error', () => {});
    const framing = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`;
    const head = `${method} ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `${headers.map((h) => h + '\r\n').join('')}${framing}\r\n\r\n`;
    const send = (b) => {
      if (chunked) s.write(`${b.length.toString(16)}\r\n`);
      s.write(b);
      if (chunked) s.write('\r\n');
    };
    s.finish = () => { send(body.subarray(sent)); if (chunked) s.write('0\r\n\r\n'); };
    s.on('connect', () => { s.write(head); if (sent) send(body.subarray(0, sent)); resolve(s); });
  });
}

const answered = (socks, ms) => waitFor(() => socks.every((s) => s.reply.includes('\r\n\r\n')), ms);

// Waits until the daemon has read everything sent to it (the receive
// queues of its sockets on the port are empty) and then answered one more
// request: whatever it had to say about those bytes has been said.
async function quiet() {
  await waitFor(() => serverSockets(d).every((s) => s.rx === 0));
  const probe = await upload({ method: 'GET', target: '/healthz', body: Buffer.alloc(0), sent: 0 });
  await answered([probe], 3000);
  probe.destroy();
}

// Each refusal the head decides, answered before the body (which the
// client never finishes sending).
const now = Math.floor(Date.now() / 1000);
const cases = [
  ['no credentials', {}, 401, 'authentication required'],
  ['an unknown token', { headers: ['Authorization: Bearer nope'] }, 401, 'unknown token'],
  ['a token without the route\'s scope', { headers: [`Authorization: Bearer ${readerToken}`] }, 403, 'scopes'],
  ['an unknown route', { target: '/v2/upload', headers: [`Authorization: Bearer ${token}`] }, 404, 'not found'],
  ['a method the route does not take', { method: 'PUT', headers: [`Authorization: Bearer ${token}`] }, 405, 'method not allowed'],
  ['a GitHub signature when no principal has a GitHub secret', { headers: ['X-Hub-Signature-256: sha256=00'] }, 401, 'X-Hub-Signature-256'],
  ['a Standard Webhooks signature without its webhook-id', { headers: [`webhook-timestamp: ${now}`, 'webhook-signature: v1,AA=='] }, 401, 'webhook-id'],
  ['a Standard Webhooks signature with a stale timestamp', { headers: ['webhook-id: msg_0', `webhook-timestamp: ${now - 3600}`,
    'webhook-signature: v1,AA=='] }, 401, 'webhook-timestamp'],
];
for (const [name, opts, status, reason] of cases) {
  const s = await upload(opts);
  await answered([s], 3000);
  t.check(statusOf(s.reply) === status && s.reply.includes(reason) && s.reply.includes('Connection: close') &&
    s.reply.includes('"details"'), `${name}: ${status} from the head, before the body`, s.reply.slice(0, 300));
  s.destroy();
}
// A signed request can only be judged on its body: with the signature
// headers present and a principal holding such a secret, the body is read
// (and then the signature checked).
{
  const s = await upload({ headers: ['webhook-id: msg_1', `webhook-timestamp: ${now}`, 'webhook-signature: v1,AA=='] });
  await quiet();
  const early = s.reply;
  s.finish();
  await answered([s], 5000);
  t.check(early === '' && statusOf(s.reply) === 401 && s.reply.includes('does not match'),
    'a Standard Webhooks request is read whole, then its signature refused', `${early} / ${s.reply.slice(0, 200)}`);
  s.destroy();
}

// Hundreds of stalled 1 MB uploads without a token, from a few addresses:
// each answered 401 at once; the daemon's memory stays small.
const STALLED = 300;
const rssBefore = rss();
const stalled = [];
for (let i = 0; i < STALLED; i++)
  stalled.push(await upload({ from: `127.0.0.${2 + (i % 5)}`, sent: BODY - 1 }));
const allAnswered = await answered(stalled, 15000);
const statuses = stalled.map((s) => statusOf(s.reply));
const slowest = Math.max(...stalled.map((s) => s.answeredMs ?? Infinity));
t.check(allAnswered && statuses.every((st) => st === 401),
  `${STALLED} stalled uploads without a token: each answered 401`,
  `${statuses.filter((st) => st === 401).length} got 401; others ${[...new Set(statuses)].join(',')}`);
t.check(slowest < 5000, 'each at once, not after its body', `slowest ${slowest} ms`);
const rssAfter = rss();
console.log(`daemon RSS with ${STALLED} stalled unauthenticated uploads: ${rssBefore.toFixed(1)} -> ${rssAfter.toFixed(1)} MiB`);
if (process.env.CDE_SANITIZED === '1')
  console.log('(sanitized build: RSS not judged)');
else
  t.check(rssAfter - rssBefore < 40, 'the daemon does not buffer their bodies', `${rssBefore} -> ${rssAfter} MiB`);
stalled.forEach((s) => s.destroy());

// A signed request passes the head on its headers alone, so one address
// may hold only its share of the cap (an eighth, a body_max at least):
// heads without bodies from one client cannot take the cap from others.
{
  const signed = (from, id) => upload({ from, sent: 0,
    headers: [`webhook-id: ${id}`, `webhook-timestamp: ${now}`, 'webhook-signature: v1,AA=='] });
  const first = await signed('127.0.0.30', 'share-1');
  const second = await signed('127.0.0.30', 'share-2');
  const elsewhere = await signed('127.0.0.31', 'share-3');
  await answered([second], 3000);
  await quiet();
  t.check(first.reply === '' && statusOf(second.reply) === 503 && elsewhere.reply === '',
    'one address holds at most its share of the bodies in flight; another address is not affected',
    `${first.reply.slice(0, 40)} / ${second.reply.slice(0, 60)} / ${elsewhere.reply.slice(0, 40)}`);
  [first, second, elsewhere].forEach((x) => x.destroy());
  await quiet();
}

// With a valid token, bodies in flight share a cap: 4 stalled 1 MB
// uploads (from 4 addresses: each holds at most its share) fit in 4 MiB,
// the 5th is answered 503 with Retry-After at its head, and so is a
// chunked one once its chunks would pass the cap.
const auth = [`Authorization: Bearer ${token}`];
const inFlight = [];
for (let i = 0; i < 4; i++)
  inFlight.push(await upload({ headers: auth, body: hookOf(BODY, `up-${i}`), from: `127.0.0.${10 + i}` }));
await quiet();
t.check(inFlight.every((s) => s.reply === ''), 'uploads within the in-flight cap wait for their bodies');
const over = await upload({ headers: auth, sent: 0, from: '127.0.0.20' });
await answered([over], 3000);
t.check(statusOf(over.reply) === 503 && over.reply.includes('Retry-After:') && over.reply.includes('Connection: close'),
  'an upload past the in-flight cap: 503 with Retry-After, from its head', over.reply.slice(0, 300));
over.destroy();
const overChunked = await upload({ headers: auth, chunked: true, sent: 300000, from: '127.0.0.21' });
await answered([overChunked], 3000);
t.check(statusOf(overChunked.reply) === 503 && overChunked.reply.includes('Retry-After:'),
  'a chunked upload is counted as it arrives: 503 once it would pass the cap', overChunked.reply.slice(0, 300));
overChunked.destroy();
inFlight[0].finish();
await answered([inFlight[0]], 5000);
t.check(statusOf(inFlight[0].reply) === 202, 'a finished upload within the cap is accepted', inFlight[0].reply.slice(0, 300));
const next = await upload({ headers: auth, body: hookOf(BODY, 'after'), sent: 0, from: '127.0.0.22' });
next.finish();
await answered([next], 5000);
t.check(statusOf(next.reply) === 202, 'its bytes are released: the next upload fits', next.reply.slice(0, 300));
[...inFlight, next].forEach((s) => s.destroy());

t.check(await d.stop() === 0, 'exits 0 on SIGTERM', d.log().slice(-1000));
fs.rmSync(dir, { recursive: true });
t.finish();
