// Ingest on PostgreSQL: durable hooks/s and latency with wrk over 32
// keep-alive connections, first into one replica, then into two replicas
// of one database (16 connections each, at the same time), on a
// throwaway cluster (tests/pg/cluster) on this machine, fsync on. The
// replicas serialise their groups on the log's head row: two replicas
// buy availability, and this shows what they cost or add in throughput.
//
//   node tests/bench/ingest_pg.mjs path/to/cdeventsd [seconds]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startDaemon, curl } from '../js/daemon.mjs';
import { wrk, result } from './lib.mjs';

const bin = process.argv[2];
const secs = Number(process.argv[3] || 10);
const cluster = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'pg', 'cluster');
const body = JSON.stringify({ phase: 'started', subject: 'etl-build-000042', customData: { job: 'nightly-etl', team: 'data-platform', branch: 'main', commit: '4f2a9c1e7b' } });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-bench-pg-'));
// Its own temp dir: as root the server runs as postgres, which must reach it.
const pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-pg-'));
const started = spawnSync(cluster, ['start', pgDir], { encoding: 'utf8' });
if (started.status !== 0) {
  console.log(`postgres: cannot start a cluster: ${started.stderr}`);
  process.exit(0);
}
const url = started.stdout.trim();
const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, 'limits:\n  queue_max: 100000\n  max_connections_per_address: 1024\n');
const metric = (text, name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
const out = {};

const replicas = [];
try {
  for (const n of [1, 2]) {
    while (replicas.length < n)
      replicas.push(await startDaemon(bin, ['-c', cfg, '--state-dir', path.join(dir, `state-${replicas.length}`), '--storage-url', url]));
    const before = replicas.map((d) => curl([`${d.url}/metrics`]).body);
    const runs = await Promise.all(replicas.map((d) =>
      wrk(`${d.url}/v1/hooks/build`, body, { seconds: secs, connections: 32 / n, threads: 1 })));
    const after = replicas.map((d) => curl([`${d.url}/metrics`]).body);
    const sum = (k, texts) => texts.reduce((s, t) => s + metric(t, k), 0);
    const commits = sum('cdeventsd_journal_commits_total', after) - sum('cdeventsd_journal_commits_total', before);
    const events = sum('cdeventsd_journal_commit_events_sum', after) - sum('cdeventsd_journal_commit_events_sum', before);
    const rps = runs.reduce((s, w) => s + w.rps, 0);
    const p99 = Math.max(...runs.map((w) => w.p99));
    const non2xx = runs.reduce((s, w) => s + w.non2xx, 0);
    out[`replicas_${n}`] = { rps: Math.round(rps), p50: Math.max(...runs.map((w) => w.p50)), p99, non2xx,
      eventsPerCommit: Number((events / commits).toFixed(1)) };
    console.log(`postgres, ${n} replica${n > 1 ? 's' : ''}: ${rps.toFixed(0)} hooks/s, p99 ${p99} ms, ${non2xx} non-2xx; ` +
      `${(events / commits).toFixed(1)} events per commit`);
  }
} finally {
  for (const d of replicas) await d.stop();
  spawnSync(cluster, ['stop', pgDir]);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(pgDir, { recursive: true, force: true });
}
result('ingest_postgres', out);
