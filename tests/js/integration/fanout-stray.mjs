// Bytes a receiver writes on an idle kept-alive connection (a proxy's
// late 408 without "Connection: close", a duplicate answer) must not be
// taken for the answer to the next request sent over it: that answer
// would be one request late for ever after, and the sink would pass
// events the receiver refused (review 6, #1). The daemon lets such a
// connection go (the receiver sees it closed), and the next events go
// over new connections, each settled only by its own 2xx.
//
//   node tests/js/integration/fanout-stray.mjs path/to/cdeventsd
import http from 'node:http';
import { startDaemon, checker, waitFor, waitForSinks, freePort, postBacklog, lakeSinkConfig } from '../daemon.mjs';

const t = checker();
const [bin] = process.argv.slice(2, 3);
const N = 200;
const ok = new Set();      // ids the receiver answered 2xx
const tried = new Map();   // id -> attempts
const open = new Set();
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const id = req.headers['ce-id'];
    const n = (tried.get(id) || 0) + 1;
    tried.set(id, n);
    // The second burst is refused the first time (503), taken after.
    if (id.startsWith('s1-') && n === 1) { res.writeHead(503); res.end(); return; }
    ok.add(id);
    res.writeHead(204);
    res.end();
  });
});
server.keepAliveTimeout = 60000;
server.on('connection', (s) => { open.add(s); s.on('close', () => open.delete(s)); });
const port = await freePort();
await new Promise((r) => server.listen(port, '127.0.0.1', r));
const { cfg } = lakeSinkConfig(port, 'stray', ['max_backoff: 200ms']);
const d = await startDaemon(bin, ['-c', cfg]);

await postBacklog(d, N, 's0');
await waitForSinks(d, { lake: (s) => s.lagEvents === 0 && s.delivered >= N }, 30000);
const idle = open.size;
t.check(idle > 0, `the first burst left kept-alive connections open (${idle})`);
for (const s of open) s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
t.check(await waitFor(() => open.size === 0, 10000), 'the daemon lets go of every connection that got bytes between requests',
  `${open.size} of ${idle} still open`);

await postBacklog(d, N, 's1');
const st = await waitForSinks(d, { lake: (s) => s.lagEvents === 0 && s.delivered >= 2 * N }, 30000);
const lost = [...Array(N).keys()].map((k) => `s1-${k}`).filter((id) => !ok.has(id));
t.check(lost.length === 0, 'every event of the second burst was answered 2xx before the sink passed it',
  `${lost.length} only ever got 503: ${lost.slice(0, 5).join(', ')}; sink ${JSON.stringify(st?.sinks?.[0])}`);
t.check(await d.stop() === 0, 'exit 0');
server.close();
t.finish();
