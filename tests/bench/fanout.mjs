// Fan-out: events/s delivered to 1 and to 4 webhook receivers (nginx
// answering 204) while the same events are posted (the "combined" figure:
// ingest and delivery share the machine), with commit-to-delivery p50/p99
// from the daemon's own histogram; the delivery path alone, a stored
// backlog drained to one receiver (the "drain" figure); the daemon's
// memory while one sink is down for N events; and how fast a sink
// recovers from an outage with 30,000 events waiting.
//
//   node tests/bench/fanout.mjs path/to/cdeventsd [events] [parts]
//
// parts: a comma-separated choice of combined, drain, down, recovery (all).
// With PERF_DATA=file, the drain runs under `perf record --call-graph
// dwarf` on the daemon, written to that file (perf report --comm
// cde-delivery -i file).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startDaemon, curl } from '../js/daemon.mjs';
import { startNginx, nginxCounts, freePort, rss, histogramQuantile, result, threadCpu, postBuildBatches } from './lib.mjs';

const bin = process.argv[2];
const N = Number(process.argv[3] || 50000);
const parts = (process.argv[4] || 'combined,drain,down,recovery').split(',');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = {};

const sinks = async (d) => curl([`${d.url}/v1/sinks`]).json.sinks;

// Polls nginx's stub_status at @statusPort every 10 ms until its servers
// handled @n requests besides these polls (GET /v1/sinks is refreshed
// once a second, too coarse for runs of a few seconds): when the first
// came and when the @n-th had (ms), how many came, connections accepted.
async function untilRequests(statusPort, n) {
  for (let polls = 1, first = null; ; polls++) {
    const counts = await nginxCounts(statusPort);
    const seen = counts.requests - polls;
    if (seen > 0 && first === null) first = Date.now();
    if (seen >= n) return { first, last: Date.now(), seen, connections: counts.accepts - 1 };
    await sleep(10);
  }
}

for (const count of parts.includes('combined') ? [1, 4] : []) {
  const [ports, statusPort] = [await Promise.all(Array.from({ length: count }, freePort)), await freePort()];
  const ngx = await startNginx(ports, 204, { statusPort });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-bench-fanout-'));
  const cfg = path.join(dir, 'cdeventsd.yaml');
  fs.writeFileSync(cfg, `limits: { queue_max: 100000 }\nsinks:\n` +
    ports.map((p, i) => `  - name: r${i}\n    type: webhook\n    url: http://127.0.0.1:${p}/\n`).join('') +
    `routes:\n  - sinks: [${ports.map((_, i) => `r${i}`).join(', ')}]\n`);
  const d = await startDaemon(bin, ['-c', cfg, '--state-dir', path.join(dir, 'state')]);
  const t0 = Date.now();
  const cpu0 = threadCpu(d.proc.pid);
  await postBuildBatches(d, N, `f${count}`);
  const posted = (Date.now() - t0) / 1000;
  const { last } = await untilRequests(statusPort, N * count);
  const secs = (last - t0) / 1000;
  const deliveryCpu = (threadCpu(d.proc.pid)['cde-delivery'] || 0) - (cpu0['cde-delivery'] || 0);
  while ((await sinks(d)).some((s) => s.delivered < N)) await sleep(100);
  const metrics = curl([`${d.url}/metrics`]).body;
  const p50 = histogramQuantile(metrics, 'cdeventsd_sink_delivery_latency_seconds', 'sink="r0"', 0.5);
  const p99 = histogramQuantile(metrics, 'cdeventsd_sink_delivery_latency_seconds', 'sink="r0"', 0.99);
  out[`combined_receivers_${count}`] = { events: N, seconds: Number(secs.toFixed(2)), postedInSeconds: Number(posted.toFixed(2)), deliveriesPerSecond: Math.round(N * count / secs),
    commitToDeliveryP50Seconds: p50, commitToDeliveryP99Seconds: p99,
    deliveryThreadUsPerDelivery: Number((deliveryCpu / (N * count) * 1e6).toFixed(1)) };
  // Posted as fast as batches go, so commit-to-2xx is mostly time spent
  // waiting behind the burst, not the cost of one delivery.
  console.log(`combined, ${count} receiver(s): ${N} events posted in batches and delivered to each in ${secs.toFixed(2)} s ` +
    `(the posting took ${posted.toFixed(2)} s of it): ` +
    `${Math.round(N * count / secs)} deliveries/s; commit to 2xx under this burst: p50 <= ${p50} s, p99 <= ${p99} s ` +
    `(histogram bucket bounds); the delivery thread ${(deliveryCpu / (N * count) * 1e6).toFixed(1)} us of CPU per delivery`);
  await d.stop();
  ngx.stop();
}

// Drain: the delivery path alone. N events are stored while the
// receiver's port refuses connections (the sink retries its window every
// 100 ms at most); then nginx starts there and the sink drains the
// backlog with nothing else posting. The rate is N over the time from the
// first request nginx handled to the Nth (nginx's stub_status, read every
// 10 ms); the CPU is the delivery thread's over the same span.
if (parts.includes('drain')) {
  const [port, statusPort] = [await freePort(), await freePort()];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-bench-drain-'));
  const cfg = path.join(dir, 'cdeventsd.yaml');
  fs.writeFileSync(cfg, `limits: { queue_max: 100000 }\nsinks:\n  - name: drain\n    type: webhook\n    url: http://127.0.0.1:${port}/\n` +
    `    max_attempts: 1000000\n    max_age: 1h\n    max_backoff: 100ms\nroutes:\n  - sinks: [drain]\n`);
  const d = await startDaemon(bin, ['-c', cfg, '--state-dir', path.join(dir, 'state')]);
  const head = (await sinks(d))[0].cursor + N;
  await postBuildBatches(d, N, 'drain');
  while (!(await sinks(d)).every((s) => s.cursorLagEvents === N)) await sleep(100);
  const perf = process.env.PERF_DATA ? spawn('perf', ['record', '-q', '--call-graph', 'dwarf', '-F', '1999', '-o',
    process.env.PERF_DATA, '-p', String(d.proc.pid)], { stdio: 'ignore' }) : null;
  if (perf) await sleep(1000);
  const cpu0 = threadCpu(d.proc.pid)['cde-delivery'] || 0;
  const ngx = await startNginx([port], 204, { statusPort });
  const { first, last, seen, connections } = await untilRequests(statusPort, N);
  const cpu = (threadCpu(d.proc.pid)['cde-delivery'] || 0) - cpu0;
  if (perf && perf.exitCode === null) {
    perf.kill('SIGINT');
    await new Promise((r) => perf.once('exit', r));
  }
  while ((await sinks(d))[0].cursor !== head) await sleep(100);
  const secs = Math.max(last - first, 1) / 1000;
  out.drain = { events: N, seconds: Number(secs.toFixed(2)), deliveriesPerSecond: Math.round(N / secs),
    deliveryThreadUsPerDelivery: Number((cpu / N * 1e6).toFixed(1)), requestsSeen: seen, connections };
  console.log(`drain, 1 receiver: a stored backlog of ${N} events delivered in ${secs.toFixed(2)} s with nothing posted ` +
    `meanwhile: ${out.drain.deliveriesPerSecond} deliveries/s; the delivery thread ` +
    `${out.drain.deliveryThreadUsPerDelivery} us of CPU per delivery, over ${out.drain.connections} connections`);
  await d.stop();
  ngx.stop();
}

// Memory with a sink down for N events (connection refused all along).
if (parts.includes('down')) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-bench-down-'));
  const cfg = path.join(dir, 'cdeventsd.yaml');
  fs.writeFileSync(cfg, `limits: { queue_max: 100000 }\nsinks:\n  - name: down\n    type: webhook\n    url: http://127.0.0.1:${await freePort()}/\n` +
    `    max_attempts: 1000000\n    max_age: 1h\nroutes:\n  - sinks: [down]\n`);
  const d = await startDaemon(bin, ['-c', cfg, '--state-dir', path.join(dir, 'state')]);
  await sleep(500);
  const idle = rss(d.proc.pid);
  await postBuildBatches(d, N * 2, 'down');
  await sleep(1500);
  const with_backlog = rss(d.proc.pid);
  out.sinkDown = { events: N * 2, rssIdleMiB: Number(idle.toFixed(1)), rssWithBacklogMiB: Number(with_backlog.toFixed(1)) };
  console.log(`a sink down for ${N * 2} events: RSS ${idle.toFixed(1)} MiB idle, ${with_backlog.toFixed(1)} MiB with the backlog`);
  await d.stop();
}
// Recovery: a receiver down (connection refused) while 30,000 events
// queue, long enough for the backoffs of the events tried to reach
// seconds; then back, in its own process (tests/js/receiver.mjs, which
// notes when 99% and all of them arrived). The figure is the time from
// 99% delivered to the sink's cursor at the head in GET /v1/sinks (which
// is refreshed once a second), next to when the last event arrived.
if (parts.includes('recovery')) {
  const M = 30000;
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-bench-recovery-'));
  const cfg = path.join(dir, 'cdeventsd.yaml');
  fs.writeFileSync(cfg, `limits: { queue_max: 100000 }\nsinks:\n  - name: back\n    type: webhook\n    url: http://127.0.0.1:${port}/\n` +
    `    max_attempts: 1000000\n    max_age: 1h\nroutes:\n  - sinks: [back]\n`);
  const d = await startDaemon(bin, ['-c', cfg, '--state-dir', path.join(dir, 'state')]);
  const head = (await sinks(d))[0].cursor + M;
  await postBuildBatches(d, M, 'rec');
  // Every event of the window (16) has failed five times or so.
  while (!(await sinks(d)).every((s) => s.cursorLagEvents === M && s.retries >= 80)) await sleep(100);
  const receiver = spawn(process.execPath, [path.join(path.dirname(new URL(import.meta.url).pathname), '../js/receiver.mjs'),
    String(port), String(M)], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.on('exit', () => receiver.kill('SIGTERM'));
  await new Promise((r) => receiver.stdout.once('data', r));
  const back = Date.now();
  let atHead = null;
  while (atHead === null && Date.now() - back < 600000) {
    if ((await sinks(d))[0].cursor === head) atHead = Date.now();
    else await sleep(50);
  }
  const stats = await (await fetch(`http://127.0.0.1:${port}/stats`)).json();
  const secs = (ms) => (ms === null ? null : Number((ms / 1000).toFixed(2)));
  out.recovery = { events: M, to99Seconds: secs(stats.at99 - back),
    lastAfter99Seconds: secs(stats.atAll - stats.at99), cursorAtHeadAfter99Seconds: secs(atHead && atHead - stats.at99) };
  console.log(`a receiver back after an outage with ${M} events waiting: 99% delivered in ${out.recovery.to99Seconds} s ` +
    `(a Node receiver), the last event ${out.recovery.lastAfter99Seconds} s later, the cursor at the head in GET /v1/sinks ` +
    `${out.recovery.cursorAtHeadAfter99Seconds} s after 99% (the status is refreshed once a second)`);
  await d.stop();
  receiver.kill('SIGTERM');
}
result('fanout', out);
