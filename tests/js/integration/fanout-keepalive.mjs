// Kept-alive connections to a receiver: a burst comes over as many
// connections as requests went at once, not one per few deliveries; the
// receiver then closes them while they are idle (Node's keepAliveTimeout,
// here 300 ms), which must neither keep the delivery thread busy (the
// daemon watches an idle connection's socket between requests) nor lose
// the next events, sent over new connections.
//
//   node tests/js/integration/fanout-keepalive.mjs path/to/cdeventsd path/to/cdevctl
import fs from 'node:fs';
import http from 'node:http';
import { startDaemon, checker, waitFor, waitForSinks, freePort, postBacklog, lakeSinkConfig } from '../daemon.mjs';

const t = checker();
const [bin] = process.argv.slice(2, 4);
const N = 2000;

const seen = new Set();
const open = new Set();
let connections = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { seen.add(req.headers['ce-id']); res.writeHead(204); res.end(); });
});
server.keepAliveTimeout = 300;
server.on('connection', (sock) => {
  connections++;
  open.add(sock);
  sock.on('close', () => open.delete(sock));
});
const port = await freePort();
await new Promise((r) => server.listen(port, '127.0.0.1', r));

const { cfg } = lakeSinkConfig(port, 'keepalive');
const d = await startDaemon(bin, ['-c', cfg]);
// CPU seconds of the delivery thread so far (utime + stime, in ticks of 1/100 s).
const deliveryCpu = () => {
  for (const tid of fs.readdirSync(`/proc/${d.proc.pid}/task`)) {
    const stat = fs.readFileSync(`/proc/${d.proc.pid}/task/${tid}/stat`, 'utf8');
    if (stat.includes('(cde-delivery)')) {
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    }
  }
  return 0;
};

await postBacklog(d, N, 'ka1');
await waitFor(() => seen.size >= N, 60000);
t.check(seen.size === N, `all ${N} events of the first burst arrive`, `${seen.size} arrived`);
// 16 at once (max_in_flight's default), each on its own connection.
t.check(connections <= 32, 'over a few kept-alive connections', `${connections} connections`);

// The receiver closes the idle connections.
t.check(await waitFor(() => open.size === 0, 10000), 'the receiver closed the idle connections', `${open.size} open`);
const cpu0 = deliveryCpu();
const t0 = Date.now();
// A window to measure the thread's CPU over, not a wait for a condition.
await new Promise((r) => setTimeout(r, 1000));
const busy = deliveryCpu() - cpu0;
t.check(busy < 0.3, 'the delivery thread stays idle once they are closed', `${busy.toFixed(2)} s of CPU in ${Date.now() - t0} ms`);

const before = connections;
await postBacklog(d, N, 'ka2');
await waitFor(() => seen.size >= 2 * N, 60000);
t.check(seen.size === 2 * N, `all ${N} events of the second burst arrive, over new connections`,
  `${seen.size - N} arrived, ${connections - before} new connections`);
const st = (await waitForSinks(d, { lake: (s) => s.lagEvents === 0 }))?.sinks?.[0];
t.check(st?.lagEvents === 0 && st?.deadLetters === 0, 'the sink is caught up, with no dead letters', JSON.stringify(st));
t.check(await d.stop() === 0, 'exits 0 on SIGTERM');
server.close();
t.finish();
