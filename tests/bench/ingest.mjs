// Ingest against the physical limit: hooks/s and latency with wrk over 32
// keep-alive connections, 200-byte and 8-KiB hooks, sync: full, and the CPU
// of each of the daemon's threads per event; the same
// load against nginx answering 202 with nothing to store (the ceiling of
// HTTP on this machine); the disk's fsync rate and the journal's average
// group size, which show how far group commit carries past one fsync per
// event; latency at half the saturated rate; RSS idle and under load.
//
//   node tests/bench/ingest.mjs path/to/cdeventsd [seconds]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, curl } from '../js/daemon.mjs';
import { startNginx, freePort, wrk, rss, result, threadCpu } from './lib.mjs';

const bin = process.argv[2];
const secs = Number(process.argv[3] || 10);
const small = JSON.stringify({ phase: 'started', subject: 'etl-build-000042', customData: { job: 'nightly-etl', team: 'data-platform', branch: 'main', commit: '4f2a9c1e7b' } });
const pad = 'x'.repeat(8192 - 120);
const large = JSON.stringify({ phase: 'started', subject: 'etl-build-000042', customData: { note: pad } });
console.log(`hook sizes: ${small.length} B and ${large.length} B`);

// The disk: how many fsyncs a second, 4 KiB each, where the journal lives.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-bench-ingest-'));
let fsyncs = 0;
{
  const fd = fs.openSync(path.join(dir, 'fsync.probe'), 'w');
  const buf = Buffer.alloc(4096, 1);
  const end = Date.now() + 2000;
  for (; Date.now() < end; fsyncs++) { fs.writeSync(fd, buf, 0, buf.length, 0); fs.fsyncSync(fd); }
  fs.closeSync(fd);
  fsyncs /= 2;
}
console.log(`disk: ${fsyncs.toFixed(0)} fsyncs/s (4 KiB rewrites) in ${dir}`);

const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, 'limits:\n  queue_max: 100000\n  max_connections_per_address: 1024\n');
const d = await startDaemon(bin, ['-c', cfg, '--state-dir', path.join(dir, 'state')]);
const idle = rss(d.proc.pid);
const out = { fsyncsPerSecond: Math.round(fsyncs), rssIdleMiB: Number(idle.toFixed(1)) };

const metric = (text, name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
for (const [label, body] of [['200B', small], ['8KiB', large]]) {
  const before = curl([`${d.url}/metrics`]).body;
  const cpu0 = threadCpu(d.proc.pid);
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, rss(d.proc.pid)); }, 200);
  const w = await wrk(`${d.url}/v1/hooks/build`, body, { seconds: secs, connections: 32, threads: 1 });
  clearInterval(sampler);
  const cpu1 = threadCpu(d.proc.pid);
  const after = curl([`${d.url}/metrics`]).body;
  const commits = metric(after, 'cdeventsd_journal_commits_total') - metric(before, 'cdeventsd_journal_commits_total');
  const events = metric(after, 'cdeventsd_journal_commit_events_sum') - metric(before, 'cdeventsd_journal_commit_events_sum');
  out[`cdeventsd_${label}`] = { ...w, commitsPerSecond: Math.round(commits / secs), eventsPerCommit: Number((events / commits).toFixed(1)),
    rssPeakMiB: Number(peak.toFixed(1)) };
  console.log(`cdeventsd ${label}: ${w.rps.toFixed(0)} hooks/s, p50 ${w.p50} ms, p99 ${w.p99} ms, ${w.non2xx} non-2xx; ` +
    `${(commits / secs).toFixed(0)} commits/s of ${(events / commits).toFixed(1)} events on average; RSS peak ${peak.toFixed(1)} MiB`);
  const split = {};
  for (const [name, s] of Object.entries(cpu1)) {
    const used = s - (cpu0[name] || 0);
    if (used > 0) split[name] = { corePercent: Math.round(100 * used / secs), usPerEvent: Number((used / events * 1e6).toFixed(1)) };
  }
  out[`cdeventsd_${label}`].threads = split;
  console.log(`  CPU per thread: ${Object.entries(split).map(([n, v]) => `${n} ${v.corePercent}% of a core, ` +
    `${v.usPerEvent} us/event`).join('; ')}`);
}

// Half load: 32 connections each pausing between requests so that
// together they send about half the saturated rate.
{
  const target = out.cdeventsd_200B.rps / 2;
  const delayMs = Math.max(1, Math.round(32 * 1000 / target - (out.cdeventsd_200B.p50 ?? 1)));
  const w = await wrk(`${d.url}/v1/hooks/build`, small, { seconds: secs, connections: 32, delayMs });
  out.cdeventsd_200B_half = w;
  console.log(`cdeventsd 200B at about half load: ${w.rps.toFixed(0)} hooks/s, p50 ${w.p50} ms, p99 ${w.p99} ms`);
}
await d.stop();

// The ceiling: nginx answering 202, same load.
const port = await freePort();
const ngx = await startNginx([port], 202);
for (const [label, body] of [['200B', small], ['8KiB', large]]) {
  const w = await wrk(`http://127.0.0.1:${port}/v1/hooks/build`, body, { seconds: secs, connections: 32, threads: 1 });
  out[`nginx_${label}`] = w;
  const ratio = out[`cdeventsd_${label}`].rps / w.rps;
  out[`ratio_${label}`] = Number(ratio.toFixed(3));
  console.log(`nginx ${label}: ${w.rps.toFixed(0)} req/s, p50 ${w.p50} ms, p99 ${w.p99} ms; cdeventsd/nginx = ${(ratio * 100).toFixed(1)}%`);
}
ngx.stop();
result('ingest', out);
