// Slow clients: hundreds of connections that send a byte every two seconds
// are closed at their deadline (the whole head within 10 s of its first
// byte), while normal requests keep being answered. Then the per-address
// cap: idle connections make room for a real request from their address.
//
//   node tests/js/integration/slow-clients.mjs path/to/cdeventsd
import net from 'node:net';
import { startDaemon, curl, checker, waitFor } from '../daemon.mjs';

const t = checker();
const d = await startDaemon(process.argv[2]);
const SLOW = 300, PER_ADDRESS = 50, HEAD_DEADLINE_MS = 10000;
const request = 'POST /v1/hooks/build HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';

let connected = 0;
function slowClient(i) {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = net.connect({ host: d.host, port: d.port, localAddress: `127.0.0.${2 + Math.floor(i / PER_ADDRESS)}` });
    let reply = '', pos = 0, timer;
    s.on('connect', () => {
      connected++;
      timer = setInterval(() => { if (pos < request.length) s.write(request[pos++]); }, 2000);
      s.write(request[pos++]);
    });
    s.on('data', (c) => { reply += c; });
    const done = () => { clearInterval(timer); resolve({ ms: Date.now() - started, reply }); };
    s.on('close', done);
    s.on('error', () => {});
  });
}

const slow = Array.from({ length: SLOW }, (_, i) => slowClient(i));

// Normal requests meanwhile, from 127.0.0.1, once every slow client is
// connected; spread over a few seconds of their trickle.
await waitFor(() => connected === SLOW, 10000);
const latencies = [];
let ok = 0;
for (let i = 0; i < 40; i++) {
  const t0 = process.hrtime.bigint();
  const r = curl(['-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary',
    JSON.stringify({ phase: 'started', subject: `b${i}` }), `${d.url}/v1/hooks/build`]);
  latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
  if (r.status === 202) ok++;
  await new Promise((r) => setTimeout(r, 150)); // pacing, not a wait
}
t.check(ok === 40, 'normal requests are answered while slow clients hold connections', String(ok));
latencies.sort((a, b) => a - b);
console.log(`normal request latency with ${SLOW} slow clients: p50 ${latencies[20].toFixed(1)} ms, ` +
  `max ${latencies[39].toFixed(1)} ms (curl process start included)`);

const results = await Promise.all(slow);
const timedOut = results.filter((r) => r.reply.startsWith('HTTP/1.1 408')).length;
const late = results.filter((r) => r.ms > HEAD_DEADLINE_MS + 5000).length;
const early = results.filter((r) => r.ms < HEAD_DEADLINE_MS - 1000).length;
t.check(timedOut === SLOW, `all ${SLOW} slow clients get 408`, String(timedOut));
t.check(late === 0 && early === 0, 'each is closed at its deadline, not before, not much after',
  `early ${early}, late ${late}`);
const ms = results.map((r) => r.ms).sort((a, b) => a - b);
console.log(`slow clients closed after ${ms[0]}..${ms[ms.length - 1]} ms (deadline ${HEAD_DEADLINE_MS} ms)`);

// Per-address cap (64): idle connections cannot lock their address out.
// 64 idle connections from one address, then a real request from the
// same address: the oldest idle one is closed to make room, the request
// is answered, the other 63 stay open.
const held = [];
for (let i = 0; i < 64; i++) {
  held.push(await new Promise((resolve) => {
    const s = net.connect({ host: d.host, port: d.port, localAddress: '127.0.0.9' });
    s.reply = '';
    s.on('data', (c) => { s.reply += c; });
    s.on('connect', () => resolve(s));
    s.on('error', () => resolve(s));
  }));
}
const fromSame = curl(['--interface', '127.0.0.9', `${d.url}/healthz`]);
t.check(fromSame.status === 200, '64 idle connections from one address do not lock it out',
  `${fromSame.status} ${fromSame.body}`);
t.check(await waitFor(() => held[0].closed, 2000) && held[0].reply === '' && held.slice(1).every((s) => !s.closed),
  'the oldest idle connection of that address was closed for it, the others stay',
  `first closed ${held[0].closed}, others closed ${held.slice(1).filter((s) => s.closed).length}`);
held.forEach((s) => s.destroy());
t.check(curl([`${d.url}/healthz`]).status === 200, 'other addresses are still served');

t.check(await d.stop() === 0, 'exits 0 on SIGTERM', d.log().slice(-500));
t.finish();
