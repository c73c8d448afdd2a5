// HTTP/1.1 keep-alive and pipelining on one connection: requests written
// back to back in one packet are answered one by one, in order (each reply
// carries its request's X-Request-Id), including a thousand at once, a
// refused one in the middle does not swallow the next, and "Connection:
// close" ends the connection after its reply, a client that half-closes
// after its requests gets every reply whole; "Expect: 100-continue" is
// answered before the body.
//
//   node tests/js/integration/http-pipelining.mjs path/to/cdeventsd
import net from 'node:net';
import { startDaemon, checker } from '../daemon.mjs';

const t = checker();
const d = await startDaemon(process.argv[2]);

const hook = (i, extra = '') => {
  const body = JSON.stringify({ phase: 'started', subject: `pipelined-${i}` });
  return `POST /v1/hooks/build HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Id: req-${i}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
};

// The complete replies in @text: {status, id, close}, each head and its
// Content-Length of body (replies follow each other with no separator).
function replies(text) {
  const out = [];
  for (let at = 0; ;) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) return out;
    const head = text.slice(at, end);
    const length = Number(/^Content-Length: (\d+)/mi.exec(head)?.[1] ?? 0);
    if (text.length < end + 4 + length) return out;
    out.push({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), id: /^X-Request-Id: (\S+)/mi.exec(head)?.[1],
      close: /^Connection: close/mi.test(head) });
    at = end + 4 + length;
  }
}

// Writes @text in one go; resolves with the replies read until the server
// closes or @want complete replies have arrived.
function exchange(text, want) {
  return new Promise((resolve) => {
    const s = net.connect({ host: d.host, port: d.port }, () => s.write(text));
    let got = '';
    s.on('data', (c) => {
      got += c;
      if (replies(got).length >= want) s.end();
    });
    s.on('close', () => resolve(replies(got)));
    s.on('error', () => {});
  });
}

// Writes @text and shuts down the sending side at once, as `nc -N` or a
// batch client does; resolves with the replies read until the server closes.
function sendAndHalfClose(text) {
  return new Promise((resolve) => {
    const s = net.connect({ host: d.host, port: d.port }, () => s.end(text));
    let got = '';
    s.on('data', (c) => { got += c; });
    s.on('close', () => resolve({ replies: replies(got), bytes: got.length }));
    s.on('error', () => {});
  });
}

const ids = (rs) => rs.map((r) => r.id);
const statuses = (rs) => rs.map((r) => r.status);

{
  const n = 20;
  const got = await exchange(Array.from({ length: n }, (_, i) => hook(i)).join(''), n);
  const want = Array.from({ length: n }, (_, i) => `req-${i}`);
  t.check(JSON.stringify(ids(got)) === JSON.stringify(want), `${n} pipelined hooks are answered in order`,
    ids(got).slice(0, 5).join(','));
  t.check(statuses(got).every((s) => s === 202), 'each with 202', statuses(got).join(','));
}
{
  const n = 1000;
  const got = await exchange(Array.from({ length: n }, (_, i) => hook(1000 + i)).join(''), n);
  t.check(ids(got).length === n && ids(got).every((id, i) => id === `req-${1000 + i}`),
    `${n} pipelined in one write are all answered, in order`, String(ids(got).length));
}
{
  const bad = 'POST /v1/hooks/build HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Id: req-bad\r\n' +
    'Content-Length: 2\r\n\r\n{}';
  const got = await exchange(hook(5000) + bad + hook(5001), 3);
  t.check(JSON.stringify(statuses(got)) === JSON.stringify([202, 400, 202]) &&
    JSON.stringify(ids(got)) === JSON.stringify(['req-5000', 'req-bad', 'req-5001']),
  'a 400 between two good requests answers each of the three', `${statuses(got)} ${ids(got)}`);
}
{
  const got = await exchange(hook(6000, 'Connection: close\r\n') + hook(6001), 2); // the server closes
  t.check(JSON.stringify(ids(got)) === JSON.stringify(['req-6000']) && got[0].close,
    'Connection: close ends the connection after its reply', ids(got).join(','));
}
// A client that shuts down its side after its requests still reads: each
// request it sent is answered whole, then the server closes.
{
  const got = await sendAndHalfClose(hook(7000) + hook(7001) + hook(7002));
  t.check(JSON.stringify(ids(got.replies)) === JSON.stringify(['req-7000', 'req-7001', 'req-7002']) &&
    statuses(got.replies).every((s) => s === 202),
  'requests pipelined before a half-close are all answered', `${statuses(got.replies)} ${ids(got.replies)}`);
}
{
  // Pages of the 1,000 events posted above, far more than a socket holds:
  // the half-close arrives while the first reply is still being written.
  const n = 12;
  const get = (i) => `GET /v1/events?limit=1000 HTTP/1.1\r\nHost: x\r\nX-Request-Id: req-p${i}\r\n\r\n`;
  const got = await sendAndHalfClose(Array.from({ length: n }, (_, i) => get(i)).join(''));
  t.check(got.replies.length === n && got.replies.every((r, i) => r.status === 200 && r.id === `req-p${i}`),
    `${n} large replies still being written when the client half-closes arrive whole`,
    `${got.replies.length} complete of ${n}, ${got.bytes} bytes`);
}
{
  const got = await sendAndHalfClose(hook(7100) + 'POST /v1/hooks/build HTTP/1.1\r\nHost: x\r\nContent-Len');
  t.check(JSON.stringify(statuses(got.replies)) === JSON.stringify([202, 400]),
    'a request cut short by a half-close is refused after the whole one before it', statuses(got.replies).join(','));
}
// Expect: 100-continue: the interim answer comes before the body is sent
// (a client such as curl waits for it), then the final one.
{
  const body = JSON.stringify({ phase: 'started', subject: 'expecting' });
  const head = 'POST /v1/hooks/build HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n' +
    `X-Request-Id: req-expect\r\nContent-Length: ${body.length}\r\n\r\n`;
  const got = await new Promise((resolve) => {
    const s = net.connect({ host: d.host, port: d.port }, () => s.write(head));
    let text = '', sent = false;
    const timer = setTimeout(() => s.destroy(), 5000);
    s.on('data', (c) => {
      text += c;
      if (!sent && text.includes('HTTP/1.1 100 Continue\r\n\r\n')) { sent = true; s.write(body); }
      if (/X-Request-Id: req-expect[^]*\r\n\r\n\{[^]*\}$/.test(text)) { clearTimeout(timer); s.end(); }
    });
    s.on('close', () => { clearTimeout(timer); resolve({ text, sent }); });
    s.on('error', () => {});
  });
  t.check(got.sent && /HTTP\/1\.1 202/.test(got.text), '100 Continue comes before the body, then 202', got.text.slice(0, 200));
}
t.check(await d.stop() === 0, 'exits 0 on SIGTERM');
t.finish();
