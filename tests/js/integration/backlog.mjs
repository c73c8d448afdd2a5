// A receiver down for 100,000 events costs disk, not memory: the daemon's
// RSS stays within a few MiB of its idle size while the backlog waits in
// the journal, and when the receiver comes back every event arrives.
// Prints the figures.
//
//   node tests/js/integration/backlog.mjs path/to/cdeventsd path/to/cdevctl [events]
import fs from 'node:fs';
import http from 'node:http';
import { startDaemon, checker, waitFor, waitForSinks, freePort, postBacklog, lakeSinkConfig } from '../daemon.mjs';

const t = checker();
const [bin] = process.argv.slice(2, 4);
const N = Number(process.argv[4] || process.env.CDE_BACKLOG_EVENTS || 100000);

// A port nobody listens on yet: the receiver is "down" (connection refused).
const port = await freePort();
const { cfg } = lakeSinkConfig(port, 'backlog', ['max_backoff: 1s']);
const d = await startDaemon(bin, ['-c', cfg]);
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${d.proc.pid}/status`, 'utf8'))[1]) / 1024;
// Idle: once the delivery engine has started and published its status.
await waitForSinks(d, { lake: () => true });
const idle = rss();

await postBacklog(d, N, 'bl');
// Loaded: once the status shows the whole backlog waiting, and a try
// at the receiver failed.
let st = (await waitForSinks(d, { lake: (s) => s.lagEvents === N && s.lastError !== null }, 60000))?.sinks?.[0];
const loaded = rss();
t.check(st.lagEvents === N, `all ${N} events wait for the receiver`, JSON.stringify(st));
if (process.env.CDE_SANITIZED === '1')
  console.log('RSS not judged: a sanitizer build holds freed memory in quarantine');
else
  t.check(loaded - idle < 8, `RSS stays within a few MiB of idle while the receiver is down (${idle.toFixed(1)} -> ${loaded.toFixed(1)} MiB)`);

// The receiver comes back.
const seen = new Set();
let requests = 0;
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => { requests++; seen.add(req.headers['ce-id']); res.writeHead(204); res.end(); });
});
// Connections, to check that they are kept alive: libcurl's default
// cache of idle connections once closed one in 30 to 40 deliveries.
let connections = 0;
server.on('connection', () => { connections++; });
await new Promise((r) => server.listen(port, '127.0.0.1', r));
const t0 = Date.now();
await waitFor(() => seen.size >= N, 300000, { every: 250 });
const secs = (Date.now() - t0) / 1000;
t.check(seen.size === N, `when it comes back, all ${N} arrive`, `${seen.size} arrived`);
// 16 at once (max_in_flight's default), each on its own connection.
t.check(connections <= 32, `the ${N} events come over a few kept-alive connections`, `${connections} connections`);
st = (await waitForSinks(d, { lake: (s) => s.lagEvents === 0 }))?.sinks?.[0];
t.check(st.lagEvents === 0 && st.deadLetters === 0, 'the sink is caught up, with no dead letters', JSON.stringify(st));
console.log(`backlog: ${N} events, RSS ${idle.toFixed(1)} MiB idle, ${loaded.toFixed(1)} MiB with the backlog, ` +
  `${rss().toFixed(1)} MiB after; delivered in ${secs.toFixed(1)} s (${(N / secs).toFixed(0)}/s), ${requests - N} extra requests, ` +
  `${connections} connections`);
t.check(await d.stop() === 0, 'exits 0 on SIGTERM');
server.close();
t.finish();
