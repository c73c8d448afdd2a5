// Benchmark of the audit log: ingest throughput with concurrent curl-like
// clients (one event per request, each answered only once committed),
// query latency on a large log (p50 and p99 of repeated first pages by
// subject, chainId, artifactId, type, and whole chains), Merkle proofs on
// it (serving time, hashes and bytes), and the
// daemon's resident memory. Prints figures; asserts nothing: speed is a
// figure to watch, not a test that fails on a busy machine.
//
//   node tests/bench/audit.mjs path/to/cdeventsd [events] [--sync normal]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon } from '../js/daemon.mjs';
import { result } from './lib.mjs';

const bin = process.argv[2];
const N = Number(process.argv[3] || 100000);
const sync = process.argv.includes('--sync') ? process.argv[process.argv.indexOf('--sync') + 1] : 'full';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-bench-'));
const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `audit:\n  sync: ${sync}\nlimits:\n  queue_max: 100000\n`);
const d = await startDaemon(bin, ['-c', cfg]);
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${d.proc.pid}/status`, 'utf8'))[1]) / 1024;
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const idle = rss();
const out = { events: N, sync };

// Ingest: 16 clients, one hook per request, for 5 seconds.
{
  let done = 0, stop = false;
  const lat = [];
  const client = async (c) => {
    for (let i = 0; !stop; i++) {
      const t0 = process.hrtime.bigint();
      const res = await fetch(`${d.url}/v1/hooks/build`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ phase: 'started', subject: `bench-${c}`, id: `ingest-${c}-${i}` }),
      });
      await res.text();
      if (res.status === 202) { done++; lat.push(Number(process.hrtime.bigint() - t0) / 1e6); }
    }
  };
  const t0 = Date.now();
  const clients = Array.from({ length: 16 }, (_, c) => client(c));
  await new Promise((r) => setTimeout(r, 5000));
  stop = true;
  await Promise.all(clients);
  const s = (Date.now() - t0) / 1000;
  out.ingestNodeClients = { rps: Math.round(done / s), p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
  console.log(`ingest (sync ${sync}, 16 clients, one hook per request): ${(done / s).toFixed(0)} events/s, ` +
    `latency p50 ${pct(lat, 0.5).toFixed(1)} ms, p99 ${pct(lat, 0.99).toFixed(1)} ms`);
}

// Load N events in batches, as a replay of a busy month would.
{
  const t0 = Date.now();
  for (let i = 0; i < N; i += 500) {
    const batch = [];
    for (let k = i; k < Math.min(N, i + 500); k++) {
      const kind = k % 3;
      const art = `pkg:oci/etl@${k % 500}`;
      const type = ['dev.cdevents.build.started.0.3.0', 'dev.cdevents.artifact.published.0.3.0',
        'dev.cdevents.service.deployed.0.3.0'][kind];
      batch.push({ specversion: '1.0', id: `b-${k}`, source: '/bench', type, data: {
        context: { specversion: '0.5.1', id: `b-${k}`, source: '/bench', type, timestamp: '2025-01-01T00:00:00Z',
          chainId: `rel-${Math.floor(k / 50)}` },
        subject: { id: kind === 1 ? art : `svc-${k % 1000}`,
          content: kind === 2 ? { environment: { id: 'prod' }, artifactId: art } : {} } } });
    }
    const res = await fetch(`${d.url}/v1/events`, { method: 'POST',
      headers: { 'Content-Type': 'application/cloudevents-batch+json' }, body: JSON.stringify(batch) });
    await res.text();
    if (res.status !== 202) throw new Error(`load failed: ${res.status}`);
  }
  console.log(`loaded ${N} events in ${((Date.now() - t0) / 1000).toFixed(1)} s (batches of 500)`);
}

// Query latency: 200 first pages per filter, on varying keys.
const time = async (url) => {
  const t0 = process.hrtime.bigint();
  const res = await fetch(url);
  await res.text();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const kinds = {
  subject: (i) => `/v1/events?subject=svc-${(i * 7) % 1000}`,
  chainId: (i) => `/v1/events?chainId=rel-${(i * 13) % Math.floor(N / 50)}`,
  artifactId: (i) => `/v1/events?artifactId=${encodeURIComponent(`pkg:oci/etl@${(i * 11) % 500}`)}`,
  type: () => '/v1/events?type=dev.cdevents.service.deployed&order=desc',
  'chain (whole)': (i) => `/v1/chains/rel-${(i * 17) % Math.floor(N / 50)}`,
};
for (const [name, url] of Object.entries(kinds)) {
  const lat = [];
  for (let i = 0; i < 200; i++) lat.push(await time(d.url + url(i)));
  out[`query_${name.replace(/\W+/g, '_')}`] = { p50: Number(pct(lat, 0.5).toFixed(2)), p99: Number(pct(lat, 0.99).toFixed(2)) };
  console.log(`query by ${name} on ${N} events: p50 ${pct(lat, 0.5).toFixed(2)} ms, p99 ${pct(lat, 0.99).toFixed(2)} ms`);
}
// Proofs on the whole log: 200 inclusion proofs of random rows and 200
// consistency proofs from random sizes to the head, as an auditor asks;
// with the CPU time of the reader thread, which serves them (schedstat: ns).
const readerNs = () => {
  const tasks = `/proc/${d.proc.pid}/task`;
  const tid = fs.readdirSync(tasks).find((t) => fs.readFileSync(`${tasks}/${t}/comm`, 'utf8').trim() === 'cde-reader');
  return tid ? Number(fs.readFileSync(`${tasks}/${tid}/schedstat`, 'utf8').split(' ')[0]) : NaN;
};
for (const [name, url] of Object.entries({
  inclusion: (i) => `/v1/log/proof/inclusion?seq=${1 + ((i * 7919) % N)}&size=${N}`,
  consistency: (i) => `/v1/log/proof/consistency?from=${1 + ((i * 104729) % (N - 1))}&to=${N}`,
})) {
  const lat = [], hashes = [], bytes = [];
  const cpu0 = readerNs();
  for (let i = 0; i < 200; i++) {
    const t0 = process.hrtime.bigint();
    const res = await fetch(d.url + url(i));
    const text = await res.text();
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (res.status !== 200) throw new Error(`${name} proof: ${res.status} ${text}`);
    const body = JSON.parse(text);
    hashes.push((body.inclusionProof || body.consistencyProof).length);
    bytes.push(text.length);
  }
  const max = (xs) => Math.max(...xs);
  const cpuUs = (readerNs() - cpu0) / 1000 / 200;
  out[`proof_${name}`] = { p50: Number(pct(lat, 0.5).toFixed(2)), p99: Number(pct(lat, 0.99).toFixed(2)),
    hashesMax: max(hashes), answerBytesMax: max(bytes), readerCpuUs: Number(cpuUs.toFixed(1)) };
  console.log(`${name} proof on ${N} entries: p50 ${pct(lat, 0.5).toFixed(2)} ms, p99 ${pct(lat, 0.99).toFixed(2)} ms, ` +
    `at most ${max(hashes)} hashes (${max(hashes) * 32} bytes), answers up to ${max(bytes)} bytes; ` +
    `reader thread ${cpuUs.toFixed(1)} us CPU a proof`);
}
const db = path.join(d.stateDir, 'audit.db');
console.log(`memory: RSS ${idle.toFixed(1)} MiB idle, ${rss().toFixed(1)} MiB after; database ` +
  `${(fs.statSync(db).size / 1048576).toFixed(0)} MiB`);
out.rssIdleMiB = Number(idle.toFixed(1));
out.rssAfterMiB = Number(rss().toFixed(1));
out.databaseMiB = Math.round(fs.statSync(db).size / 1048576);
await d.stop();
result('audit', out);
