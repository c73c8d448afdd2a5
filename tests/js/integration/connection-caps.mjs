// Fair connection caps: idle connections (connected and silent, or kept
// alive between requests) make room for new ones, so neither one address
// nor a few can lock others out; at the global cap with nothing idle, a
// half-sent head of the busiest address makes room (a slowloris spread
// over a few addresses); a connection reading a body or being handled is
// never evicted.
// Loopback addresses 127.0.0.2... stand for different clients; the caps
// are small so the test is quick.
//
//   node tests/js/integration/connection-caps.mjs path/to/cdeventsd
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, checker, statusOf, waitFor, serverSockets } from '../daemon.mjs';

const t = checker();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-caps-'));
const cfg = path.join(dir, 'cdeventsd.yaml');
const PER_ADDRESS = 4, TOTAL = 10;
fs.writeFileSync(cfg, `limits:\n  max_connections: ${TOTAL}\n  max_connections_per_address: ${PER_ADDRESS}\n`);
const d = await startDaemon(process.argv[2], ['-c', cfg]);

// Opens a connection from @from that sends @bytes (maybe nothing) and
// stays open; s.reply is what it received, s.closed whether it was closed.
function hold(from, bytes = '') {
  return new Promise((resolve) => {
    const s = net.connect({ host: d.host, port: d.port, localAddress: from });
    s.reply = '';
    s.from = from;
    s.on('data', (c) => { s.reply += c; });
    s.on('connect', () => { if (bytes) s.write(bytes); resolve(s); });
    s.on('error', () => resolve(s));
  });
}

// One request from @from on a new connection: its status (0 when none).
function request(from, pathname = '/healthz') {
  return new Promise((resolve) => {
    const s = net.connect({ host: d.host, port: d.port, localAddress: from });
    let data = '';
    const timer = setTimeout(() => { s.destroy(); resolve({ status: 0, data }); }, 5000);
    s.on('connect', () => s.write(`GET ${pathname} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    s.on('data', (c) => { data += c; });
    s.on('close', () => { clearTimeout(timer); resolve({ status: statusOf(data), data }); });
    s.on('error', () => {});
  });
}

// Waits until the daemon has read every byte sent to it, so it knows which
// connections are mid-request before the next one arrives.
const settle = () => waitFor(() => serverSockets(d).every((s) => s.rx === 0));
// Closes @socks and waits until the daemon has closed its side of them.
const closeAll = async (socks) => {
  socks.forEach((s) => s.destroy());
  await waitFor(() => serverSockets(d).every((s) => s.state !== '01' && s.state !== '08'));
};

// Per address: the oldest idle connection of that address makes room.
let held = [];
for (let i = 0; i < PER_ADDRESS; i++) held.push(await hold('127.0.0.2'));
await settle();
let r = await request('127.0.0.2');
t.check(r.status === 200, `${PER_ADDRESS} idle connections from one address do not lock it out`, r.data);
t.check(await waitFor(() => held[0].closed) && held.slice(1).every((s) => !s.closed) && held[0].reply === '',
  'the oldest idle connection of that address was the one closed',
  held.map((s) => s.closed).join(','));
await closeAll(held);

// A kept-alive connection waiting for its next request is idle too.
const kept = await hold('127.0.0.3', 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
await waitFor(() => kept.reply.includes('\r\n\r\n'));
held = [kept];
for (let i = 1; i < PER_ADDRESS; i++) held.push(await hold('127.0.0.3'));
await settle();
r = await request('127.0.0.3');
t.check(r.status === 200 && await waitFor(() => kept.closed) && held.slice(1).every((s) => !s.closed),
  'a kept-alive connection between requests is evicted like a silent one', r.data);
await closeAll(held);

// Connections in the middle of a request (slowloris: half a head) are not
// idle: they keep their slot until their deadline, and the address must
// wait; other addresses are not affected.
held = [];
for (let i = 0; i < PER_ADDRESS; i++) held.push(await hold('127.0.0.4', 'GET /healthz HTTP/1.1\r\nHo'));
await settle();
r = await request('127.0.0.4');
t.check(r.status === 503 && r.data.includes('too many connections from this address') &&
  r.data.includes('Retry-After'), 'half-sent requests are not evicted: that address gets 503', r.data);
t.check(held.every((s) => !s.closed), 'and the half-sent requests keep their connections');
r = await request('127.0.0.5');
t.check(r.status === 200, 'another address is still served', r.data);
await closeAll(held);

// The global cap filled by idle connections from several addresses: a new
// address gets in, and an idle connection of the address holding the most
// connections is the one closed.
const byAddress = { '127.0.0.6': 3, '127.0.0.7': 4, '127.0.0.8': 3 };
held = [];
for (const [from, n] of Object.entries(byAddress)) {
  for (let i = 0; i < n; i++) held.push(await hold(from));
}
await settle();
r = await request('127.0.0.10');
const heaviest = held.filter((s) => s.from === '127.0.0.7');
t.check(r.status === 200, 'idle connections filling the global cap do not lock a new address out', r.data);
t.check(await waitFor(() => held.some((s) => s.closed)) &&
  held.filter((s) => s.closed).length === 1 && heaviest.some((s) => s.closed),
  'the connection closed for it was an idle one of the address with the most',
  held.filter((s) => s.closed).map((s) => s.from).join(','));
await closeAll(held);

// Half-sent heads (a slowloris) from a few addresses filling the global
// cap: a new address gets in, and the oldest half-sent head of the address
// holding the most connections is the one closed.
held = [];
for (const [from, n] of Object.entries({ '127.0.0.11': 4, '127.0.0.12': 3, '127.0.0.13': 3 })) {
  for (let i = 0; i < n; i++) held.push(await hold(from, 'GET /healthz HTTP/1.1\r\n'));
}
await settle();
r = await request('127.0.0.30');
t.check(r.status === 200, 'half-sent heads from a few addresses filling the global cap do not lock a new address out',
  r.data);
t.check(await waitFor(() => held.some((s) => s.closed)) && held.filter((s) => s.closed).length === 1 &&
  held[0].closed, 'the connection closed for it was the oldest half-sent head of the busiest address',
held.map((s) => `${s.from}:${s.closed}`).join(','));
await closeAll(held);

// Only when every address holds no more than the newcomer's would (fair
// shares) and nothing is idle is a new connection refused.
held = [];
for (let i = 0; i < TOTAL; i++) held.push(await hold(`127.0.0.${40 + i}`, 'GET /healthz HTTP/1.1\r\n'));
await settle();
r = await request('127.0.0.30');
t.check(r.status === 503 && r.data.includes('"too many connections"'),
  'with every slot held mid-request by addresses of one connection each, a new one gets 503', r.data);
await closeAll(held);
r = await request('127.0.0.30');
t.check(r.status === 200, 'and is served once they are gone', r.data);

t.check(await d.stop() === 0, 'exits 0 on SIGTERM', d.log().slice(-500));
fs.rmSync(dir, { recursive: true });
t.finish();
