// A webhook receiver in its own process, for tests and benchmarks that
// time deliveries: a test polling the daemon (curl, spawnSync) would stall
// a receiver living in its own event loop, and skew what it measures.
//
//   node tests/js/receiver.mjs PORT EXPECTED
//
// Answers every POST with 204 (keep-alive) and counts distinct ce-id
// values. GET /stats answers {requests, unique, at99, atAll}: the wall-clock
// times (ms since the epoch) when 99% and all of EXPECTED distinct events
// had arrived, null until then. Prints "listening" once it accepts.
import http from 'node:http';

const [port, expected] = process.argv.slice(2, 4).map(Number);
const seen = new Set();
const stats = { requests: 0, unique: 0, at99: null, atAll: null };

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/stats') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(stats));
      return;
    }
    stats.requests++;
    seen.add(req.headers['ce-id']);
    stats.unique = seen.size;
    if (stats.at99 === null && seen.size >= Math.ceil(expected * 0.99)) stats.at99 = Date.now();
    if (stats.atAll === null && seen.size >= expected) stats.atAll = Date.now();
    res.writeHead(204);
    res.end();
  });
});
server.keepAliveTimeout = 60000;
server.listen(port, '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => process.exit(0));
