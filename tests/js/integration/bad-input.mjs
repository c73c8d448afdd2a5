// Bad input against a real daemon: each mistake gets its status and a JSON
// error naming the field, and the daemon stays up and keeps serving.
//
//   node tests/js/integration/bad-input.mjs path/to/cdeventsd
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, postJson, curl, raw, statusOf, checker } from '../daemon.mjs';

const t = checker();
const d = await startDaemon(process.argv[2]);
const hook = `${d.url}/v1/hooks/deploy`;
const good = { phase: 'deployed', subject: 'etl', environment: 'prod', artifactId: 'a' };

function expectError(r, status, pointer, reasonPart, name) {
  const details = r.json?.details ?? [];
  const hit = pointer === undefined ||
    details.some((e) => e.pointer === pointer && (!reasonPart || e.reason.includes(reasonPart)));
  t.check(r.status === status && typeof r.json?.error === 'string' && hit, name,
    `${r.status} ${r.body}`);
}

expectError(postJson(hook, '{"phase": "deployed", '), 400, '', 'invalid JSON', 'malformed JSON');
expectError(postJson(hook, { ...good, artifactId: 42 }), 400, '/artifactId', 'must be a string', 'wrong type');
expectError(postJson(`${d.url}/v1/hooks/spaceship`, good), 404, '', 'known kinds', 'unknown kind');
expectError(postJson(hook, { ...good, colour: 'red' }), 400, '/colour', 'unknown field', 'unknown field');
expectError(postJson(hook, { phase: 'deployed', environment: 'prod', artifactId: 'a' }), 400, '/subject',
  'required', 'missing subject');
expectError(postJson(hook, { ...good, phase: 'exploded' }), 400, '/phase', 'must be one of', 'unknown phase');
expectError(postJson(hook, '{"phase": "deployed", "phase": "removed", "subject": "x"}'), 400, '/phase',
  'duplicate property', 'duplicate property');
expectError(postJson(hook, { ...good, subject: 'x\u0000y' }), 400, '', '\\u0000', 'NUL in a string');
expectError(curl(['-X', 'POST', '-H', 'Content-Type: text/plain', '--data-binary', JSON.stringify(good), hook]),
  415, undefined, undefined, 'wrong content type');
expectError(curl(['-X', 'GET', hook]), 405, undefined, undefined, 'wrong method');
expectError(curl([`${d.url}/nowhere`]), 404, undefined, undefined, 'unknown path');

// /v1/events: an invalid CDEvent names its pointer; binary-mode headers must
// agree with the event.
const cdevent = {
  context: { specversion: '0.5.1', id: 'e1', source: '/ci', type: 'dev.cdevents.build.started.0.3.0', timestamp: 'now' },
  subject: { id: 'b', content: {} },
};
expectError(postJson(`${d.url}/v1/events`, cdevent), 400, '/context/timestamp', 'RFC 3339', 'invalid CDEvent');
expectError(postJson(`${d.url}/v1/events`, { ...cdevent, context: { ...cdevent.context, timestamp: '2025-01-01T00:00:00Z' } },
  ['-H', 'ce-specversion: 1.0', '-H', 'ce-id: other', '-H', 'ce-source: /ci', '-H', 'ce-type: dev.cdevents.build.started.0.3.0']),
  400, '/context/id', 'differs from header ce-id', 'ce-id disagrees with context.id');

// Too large: decided from Content-Length, before any of the body is sent.
const big = await raw(d, 'POST /v1/hooks/deploy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
  'Content-Length: 2000000\r\n\r\n');
t.check(statusOf(big) === 413 && big.includes('"error":"request body too large"'), 'too large by Content-Length', big);
const bigFile = path.join(fs.mkdtempSync('/tmp/cde-big-'), 'hook.json');
fs.writeFileSync(bigFile, JSON.stringify({ ...good, subject: 'x'.repeat(1100000) }));
const bigChunked = curl(['-X', 'POST', '-H', 'Content-Type: application/json', '-H', 'Transfer-Encoding: chunked',
  '--data-binary', `@${bigFile}`, hook]);
fs.rmSync(path.dirname(bigFile), { recursive: true });
t.check(bigChunked.status === 413, 'too large while chunked', `${bigChunked.status}`);

// Truncated: the client stops mid-body and half-closes.
const trunc = await raw(d, 'POST /v1/hooks/deploy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
  'Content-Length: 100\r\n\r\n{"phase": "depl', { halfClose: true });
t.check(statusOf(trunc) === 400 && trunc.includes('truncated'), 'truncated request', trunc);

// Smuggling shapes and header abuse.
const smuggling = [
  ['Content-Length: 5\r\nTransfer-Encoding: chunked', 400, 'both Transfer-Encoding and Content-Length'],
  ['Content-Length: 5\r\nContent-Length: 5', 400, 'more than one Content-Length'],
  ['Transfer-Encoding: gzip', 400, 'other than chunked'],
  ['X-Bad: a\rb', 400, 'bare CR'],
  ['X-Bad: a\u0000b', 400, 'NUL'],
];
for (const [headers, status, reason] of smuggling) {
  const r = await raw(d, `POST /v1/hooks/deploy HTTP/1.1\r\nHost: x\r\n${headers}\r\n\r\nhello`);
  t.check(statusOf(r) === status && r.includes(reason), `refused: ${JSON.stringify(headers)}`, r);
}
// A head whose lines end in a bare LF can never be read as HTTP/1.1: 400
// at once, not a 408 at the head's deadline.
for (const [name, bytes] of [
  ['bare LF everywhere', 'GET /healthz HTTP/1.1\nHost: x\n\n'],
  ['a bare LF after CRLF lines', 'GET /healthz HTTP/1.1\r\nHost: x\r\n\n'],
]) {
  const t0 = Date.now();
  const r = await raw(d, bytes, { ms: 3000 });
  t.check(statusOf(r) === 400 && r.includes('bare LF') && Date.now() - t0 < 2000,
    `${name}: 400 at once`, `${Date.now() - t0} ms: ${r}`);
}

// Credentials and signatures sent twice are ambiguous (which one did a
// proxy check, which one do we?): 400 naming the header.
for (const name of ['Authorization', 'X-Hub-Signature-256', 'webhook-id', 'webhook-timestamp', 'webhook-signature']) {
  const r = await raw(d, `POST /v1/hooks/deploy HTTP/1.1\r\nHost: x\r\n${name}: a\r\n${name.toLowerCase()}: b\r\n` +
    'Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
  t.check(statusOf(r) === 400 && r.includes(`"error":"more than one ${name}"`), `${name} twice: 400 naming it`, r);
}
const many = Array.from({ length: 70 }, (_, i) => `X-H${i}: v`).join('\r\n');
const r431 = await raw(d, `GET /healthz HTTP/1.1\r\nHost: x\r\n${many}\r\n\r\n`);
t.check(statusOf(r431) === 431, 'more than 64 header fields', r431.slice(0, 200));
const huge = await raw(d, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
t.check(statusOf(huge) === 431, 'a head over 16 KiB', huge.slice(0, 200));

// A reply to HEAD has no body, so the next reply on the connection is
// read from its first byte; empty lines before a request are ignored.
const pair = await raw(d, 'HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
const replies = pair.split('HTTP/1.1 ');
t.check(replies.length === 3 && replies[1].startsWith('200') && replies[1].endsWith('\r\n\r\n') &&
  replies[2].startsWith('404'), 'HEAD answers without a body, and the next request is read cleanly', pair);

// Expect: 100-continue (curl sends it for bodies over 1 KiB) works.
const withExpect = postJson(hook, { ...good, customData: { pad: 'p'.repeat(5000) } });
t.check(withExpect.status === 202, 'a large hook through Expect: 100-continue', withExpect.body);

// Still up, still serving.
const health = curl([`${d.url}/healthz`]);
t.check(health.status === 200, 'the daemon is still up', health.body);
t.check(postJson(hook, good).status === 202, 'and still accepts hooks');
t.check(await d.stop() === 0, 'exits 0 on SIGTERM', d.log());
t.finish();
