// Replicas on one PostgreSQL database (issue 16). Run by the pg-replicas
// suite under tests/pg/cluster (CDE_TEST_STORAGE=postgres, CDE_PG_DIR).
//
// Two daemons with their own state directories and one --storage-url take
// hooks behind a "load balancer" (the clients alternate), with two webhook
// sinks. One replica is SIGKILLed several times under load and started
// again. Afterwards every event a client saw acknowledged is stored once
// with its seq, no seq was given twice, the chain verifies, a CloudEvent
// sent to both replicas is stored once, and every acknowledged event
// reached both receivers; each sink was delivered by one replica at a
// time. Then the database itself is killed under load: the replica
// answers 503 with Retry-After and is not ready, loses nothing it
// acknowledged, and takes events again by itself once the database is
// back.
//
//   node tests/js/integration/replicas.mjs path/to/cdeventsd path/to/cdevctl
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { startDaemon, checker, waitFor, auditDb, pgMode, curl, postJson } from '../daemon.mjs';

const t = checker();
const [bin, cdevctl] = process.argv.slice(2, 4);
if (!pgMode) {
  console.log('replicas: runs on PostgreSQL only (the pg-replicas suite)');
  process.exit(77);
}
const rounds = Number(process.env.CDE_REPLICA_ROUNDS || 4);
const cluster = process.env.CDE_PG_CLUSTER, pgDir = process.env.CDE_PG_DIR;
const stateA = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-replica-a-'));
const stateB = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-replica-b-'));
const url = auditDb(stateA);

// Two receivers, one per sink; each counts what it got by ce-id.
const receivers = await Promise.all([0, 1].map(async () => {
  const got = new Map();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      got.set(req.headers['ce-id'], (got.get(req.headers['ce-id']) || 0) + 1);
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { got, server };
}));
const cfg = path.join(stateA, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `limits: { queue_max: 100000 }\nsinks:\n` + receivers.map((r, i) =>
  `  - name: r${i}\n    type: webhook\n    url: http://127.0.0.1:${r.server.address().port}/\n    max_backoff: 1s\n`).join('') +
  `routes:\n  - sinks: [r0, r1]\n`);
const start = (state) => startDaemon(bin, ['--state-dir', state, '-c', cfg, '--storage-url', url]);

const acked = new Map(); // seq -> id
let forks = 0, sent = 0;
const post = async (d, id) => {
  sent++;
  const res = await fetch(`${d.url}/v1/hooks/build`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ phase: 'started', subject: `b-${id.split('-')[1]}`, id }),
  });
  const body = await res.json();
  if (res.status !== 202) return res.status;
  if (acked.has(body.seq) && acked.get(body.seq) !== id) forks++;
  acked.set(body.seq, id);
  return 202;
};

// --- Two replicas, one killed again and again ----------------------------
let a = await start(stateA);
const b = await start(stateB);
for (let round = 0; round < rounds; round++) {
  let stop = false;
  const client = async (c) => {
    for (let i = 0; !stop; i++) {
      const d = i % 2 ? b : a; // the load balancer alternates
      try {
        await post(d, `r${round}-${c}-${i}`);
      } catch {
        if (d === a) await waitFor(() => stop, 10000); // a is down: this client waits for the round's end
      }
    }
  };
  const clients = Array.from({ length: 6 }, (_, c) => client(c));
  await waitFor(() => acked.size > (round + 1) * 300, 20000);
  a.proc.kill('SIGKILL');
  await new Promise((r) => a.proc.on('exit', r));
  stop = true;
  await Promise.all(clients);
  a = await start(stateA);
}
t.check(acked.size > rounds * 300, 'both replicas acknowledged events between the kills', String(acked.size));
t.check(forks === 0, 'no seq was acknowledged for two events', String(forks));

// One CDEvent sent to both replicas is stored once: the second replica
// sees the first one's row and answers 200 (a duplicate).
const twice = {
  context: { specversion: '0.5.1', id: 'twice-1', source: '/github', type: 'dev.cdevents.change.merged.0.3.0',
    timestamp: '2026-12-07T04:00:00Z' },
  subject: { id: 'pr-1', source: '/github', content: { repository: { id: 'org/etl', source: '/github' } } },
};
const first = postJson(`${a.url}/v1/events`, twice), second = postJson(`${b.url}/v1/events`, twice);
t.check(first.status === 202 && second.status === 200 && second.json?.duplicate === true,
  'a CDEvent sent to both replicas: 202 once, then 200 (duplicate)', `${first.status} ${second.status} ${second.body}`);

// Every acknowledged event is stored once, with its seq; the chain verifies.
const q = spawnSync(cdevctl, ['audit', 'query', '--db', url], { encoding: 'utf8', maxBuffer: 1 << 28 });
const stored = new Map(), ids = new Map();
for (const line of q.stdout.split('\n').filter(Boolean)) {
  const rec = JSON.parse(line);
  stored.set(rec.seq, rec.event.context.id);
  ids.set(rec.event.context.id, (ids.get(rec.event.context.id) || 0) + 1);
}
const lost = [...acked.keys()].filter((seq) => !stored.has(seq));
t.check(q.status === 0 && lost.length === 0, 'every acknowledged seq is in the log', `${lost.length} lost; ${q.stderr}`);
t.check([...ids.values()].every((n) => n === 1), 'no event id is stored twice');
const v = spawnSync(cdevctl, ['audit', 'verify', '--db', url], { encoding: 'utf8' });
t.check(v.status === 0, 'the one hash chain of both replicas verifies', v.stdout + v.stderr);

// Every acknowledged event reaches both receivers (at least once), though
// the replica delivering a sink was killed: the other took it over.
const ackedIds = new Set([...acked.keys()].map((seq) => stored.get(seq)));
const missing = () => receivers.map((r) => [...ackedIds].filter((id) => !r.got.has(id)).length);
await waitFor(() => missing().every((n) => n === 0), 60000, { every: 200 });
t.check(missing().every((n) => n === 0), 'every acknowledged event reached both receivers', JSON.stringify(missing()));
const leases = [a, b].map((d) => curl([`${d.url}/v1/sinks`]).json?.sinks ?? []);
for (const sink of ['r0', 'r1']) {
  const holders = leases.filter((s) => s.find((x) => x.name === sink)?.lease === 'held').length;
  t.check(holders === 1, `sink ${sink} is delivered by exactly one replica`, JSON.stringify(leases));
}
console.log(`replicas: ${rounds} SIGKILLs of one replica, ${sent} sent, ${acked.size} acknowledged, ` +
  `${stored.size} stored, redelivered: ${receivers.map((r) => [...r.got.values()].filter((n) => n > 1).length).join('/')}`);

// --- The database killed under load ---------------------------------------
{
  const before = acked.size;
  let stop = false, refused = 0, retryAfter = 0;
  const client = async (c) => {
    for (let i = 0; !stop; i++) {
      const res = await fetch(`${b.url}/v1/hooks/build`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ phase: 'started', subject: 'db-down', id: `down-${c}-${i}` }),
      });
      const body = await res.json();
      if (res.status === 202) acked.set(body.seq, `down-${c}-${i}`);
      else if (res.status === 503) { refused++; retryAfter += res.headers.has('retry-after') ? 1 : 0; }
      if (res.status !== 202) await new Promise((r) => setTimeout(r, 20));
    }
  };
  const clients = Array.from({ length: 4 }, (_, c) => client(c));
  await waitFor(() => acked.size > before + 100, 10000);
  spawnSync(cluster, ['kill', pgDir]);
  t.check(await waitFor(() => refused > 20, 10000), 'with the database down, hooks are answered 503', String(refused));
  t.check(retryAfter === refused, 'each with Retry-After');
  t.check((await fetch(`${b.url}/readyz`)).status === 503, '/readyz says not ready');
  const r = spawnSync(cluster, ['restart', pgDir], { encoding: 'utf8' });
  t.check(r.status === 0, 'the database starts again', r.stderr);
  const during = acked.size;
  t.check(await waitFor(() => acked.size > during + 100, 20000), 'the replica takes events again by itself');
  t.check((await fetch(`${b.url}/readyz`)).status === 200, 'and is ready');
  stop = true;
  await Promise.all(clients);
  const q2 = spawnSync(cdevctl, ['audit', 'query', '--db', url], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const seqs = new Set(q2.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l).seq));
  const gone = [...acked.keys()].filter((seq) => !seqs.has(seq));
  t.check(gone.length === 0, 'nothing acknowledged is lost across the database restart', `${gone.length} lost`);
}

t.check(await a.stop() === 0 && await b.stop() === 0, 'both replicas stop cleanly');
receivers.forEach((r) => r.server.close());
fs.rmSync(stateA, { recursive: true });
fs.rmSync(stateB, { recursive: true });
t.finish();
