// Fan-out to NATS JetStream: events/s the nats sink gets acked by a
// stream on a local nats-server (file storage, fsync as nats-server does
// by default), with the default window of publishes in flight and with
// the largest, and commit-to-ack p50/p99 from the daemon's histogram.
//
//   node tests/bench/nats.mjs path/to/cdeventsd [events]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, curl } from '../js/daemon.mjs';
import { startNats, withStream } from '../js/nats-server.mjs';
import { freePort, histogramQuantile, result, threadCpu, postBuildBatches } from './lib.mjs';

const bin = process.argv[2];
const N = Number(process.argv[3] || 50000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = {};

for (const window of [null, 1024]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-bench-nats-'));
  const server = await startNats(dir, await freePort());
  const { nc, jsm } = await withStream(server.url, 'CDEVENTS', ['cdevents.>']);
  const cfg = path.join(dir, 'cdeventsd.yaml');
  fs.writeFileSync(cfg, `limits: { queue_max: 100000 }\nsinks:\n  - name: bus\n    type: nats\n` +
    `    url: ${server.url}\n    stream: CDEVENTS\n${window ? `    max_in_flight: ${window}\n` : ''}` +
    'routes:\n  - sinks: [bus]\n');
  const d = await startDaemon(bin, ['-c', cfg, '--state-dir', path.join(dir, 'state')]);
  const tag = window ? `w${window}` : 'default';
  const t0 = Date.now();
  const cpu0 = threadCpu(d.proc.pid);
  await postBuildBatches(d, N, tag);
  const bus = () => curl([`${d.url}/v1/sinks`]).json.sinks.find((s) => s.name === 'bus');
  while (bus().delivered < N) await sleep(100);
  const secs = (Date.now() - t0) / 1000;
  const deliveryCpu = (threadCpu(d.proc.pid)['cde-delivery'] || 0) - (cpu0['cde-delivery'] || 0);
  const metrics = curl([`${d.url}/metrics`]).body;
  const p50 = histogramQuantile(metrics, 'cdeventsd_sink_delivery_latency_seconds', 'sink="bus"', 0.5);
  const p99 = histogramQuantile(metrics, 'cdeventsd_sink_delivery_latency_seconds', 'sink="bus"', 0.99);
  const stream = (await jsm.streams.info('CDEVENTS')).state.messages;
  out[`window_${window ?? 'default'}`] = { events: N, seconds: Number(secs.toFixed(1)),
    deliveriesPerSecond: Math.round(N / secs), commitToAckP50Seconds: p50, commitToAckP99Seconds: p99,
    deliveryThreadUsPerDelivery: Number((deliveryCpu / N * 1e6).toFixed(1)), messagesInStream: stream };
  console.log(`nats, max_in_flight ${window ?? 'default'}: ${N} events posted in batches and acked by JetStream in ` +
    `${secs.toFixed(1)} s: ${Math.round(N / secs)} deliveries/s; commit to ack under this burst: p50 <= ${p50} s, ` +
    `p99 <= ${p99} s; delivery thread ${(deliveryCpu / N * 1e6).toFixed(1)} us per delivery; ${stream} messages ` +
    'in the stream');
  await d.stop();
  await nc.close();
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
result('nats', out);
