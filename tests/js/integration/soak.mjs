// Soak: a steady stream of hooks for a while (CDE_SOAK_SECONDS, 20 in the
// test suite; `make soak MINUTES=N` for longer) while the receiver flaps:
// up, answering 503 with Retry-After, refusing connections (its port
// closed), up again. Every event acknowledged must reach it; the daemon's
// RSS must stay flat and its open file descriptors must not grow.
// Prints the samples.
//
//   node tests/js/integration/soak.mjs path/to/cdeventsd path/to/cdevctl [seconds]
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, checker, waitFor } from '../daemon.mjs';

const t = checker();
const [bin] = process.argv.slice(2, 4);
const seconds = Number(process.argv[4] || process.env.CDE_SOAK_SECONDS || 20);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The receiver and its moods.
let mood = 'up';
const seen = new Set();
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (mood === 'busy') {
      res.writeHead(503, { 'Retry-After': '1' });
      res.end();
      return;
    }
    seen.add(req.headers['ce-id']);
    res.writeHead(204);
    res.end();
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;
const setMood = async (m) => {
  if (m === 'down' && mood !== 'down') {
    await new Promise((r) => { server.close(r); server.closeAllConnections(); });
  } else if (m !== 'down' && mood === 'down') {
    await new Promise((r) => server.listen(port, '127.0.0.1', r));
  }
  mood = m;
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-soak-'));
const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `sinks:\n  - name: flappy\n    type: webhook\n    url: http://127.0.0.1:${port}/\n` +
  `    timeout: 2s\n    max_backoff: 1s\n    max_attempts: 1000000\n    max_age: 1h\nroutes:\n  - sinks: [flappy]\n`);
const d = await startDaemon(bin, ['-c', cfg]);
const fds = () => fs.readdirSync(`/proc/${d.proc.pid}/fd`).length;
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${d.proc.pid}/status`, 'utf8'))[1]) / 1024;

const acked = [];
let stop = false, failed = 0;
const client = async (c) => {
  for (let i = 0; !stop; i++) {
    try {
      const res = await fetch(`${d.url}/v1/hooks/build`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ phase: 'started', subject: `soak-${c}`, id: `soak-${c}-${i}` }) });
      await res.text();
      if (res.status === 202) acked.push(`soak-${c}-${i}`);
      else failed++;
    } catch { failed++; }
    await sleep(20); // pacing, not a wait
  }
};
const clients = Array.from({ length: 4 }, (_, c) => client(c));
const moods = ['up', 'busy', 'down', 'up', 'down', 'busy'];
const samples = [];
const start = Date.now();
for (let k = 0; Date.now() - start < seconds * 1000; k++) {
  await setMood(moods[k % moods.length]);
  await sleep(2000); // the receiver keeps each mood 2 s: the flapping is what is tested
  samples.push({ s: Math.round((Date.now() - start) / 1000), mood, rss: Number(rss().toFixed(1)), fds: fds(), acked: acked.length, seen: seen.size });
}
stop = true;
await Promise.all(clients);
await setMood('up');
await waitFor(() => acked.every((id) => seen.has(id)), 30000, { every: 100 });
const missing = acked.filter((id) => !seen.has(id)).length;
for (const s of samples) console.log(`t=${s.s}s receiver ${s.mood}: RSS ${s.rss} MiB, ${s.fds} fds, ${s.acked} acknowledged, ${s.seen} delivered`);
const warm = samples[Math.min(1, samples.length - 1)], last = samples.at(-1);
console.log(`soak: ${seconds} s, ${acked.length} acknowledged, ${failed} refused, ${missing} missing; ` +
  `RSS ${warm.rss} -> ${last.rss} MiB; fds ${warm.fds} -> ${fds()}`);
t.check(acked.length > 0 && missing === 0, 'every acknowledged event reached the flapping receiver', `${missing} missing`);
t.check(failed === 0, 'and ingest never refused while the receiver flapped', String(failed));
// The sink keeps up to max_in_flight (16) connections to the receiver
// alive between deliveries, which the receiver's moods open and close:
// fds go up and down by as many. A leak shows where none is open, when
// the receiver is down.
const downs = samples.filter((s) => s.mood === 'down');
t.check(fds() <= warm.fds + 16 + 4, 'open file descriptors do not grow past the kept-alive connections',
  `${warm.fds} -> ${fds()}`);
t.check(downs.length >= 2 && downs.at(-1).fds <= downs[0].fds + 4,
  'open file descriptors with the receiver down do not grow', downs.map((s) => s.fds).join(' -> '));
if (process.env.CDE_SANITIZED === '1')
  console.log('RSS not judged: a sanitizer build holds freed memory in quarantine');
else
  t.check(last.rss - warm.rss < 8, 'RSS stays flat', `${warm.rss} -> ${last.rss} MiB`);
t.check(await d.stop() === 0, 'exits 0 on SIGTERM', d.log().slice(-300));
server.close();
t.finish();
