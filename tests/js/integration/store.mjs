// The audit store under pressure: a disk that stops taking writes, and
// retention.
//
// Disk full: the daemon's file size limit (RLIMIT_FSIZE, set on the running
// process with prlimit) is dropped to one byte, so every write to the
// database fails as on a full disk. The daemon must answer 503 with
// Retry-After, fail /readyz, say why in its log, lose nothing it answered
// 202 for, and take events again on its own once the limit is lifted.
//
// Retention: with max_age 2s and a signed marker per run, old events go,
// the log says so, and cdevctl audit verify --key still finds the chain
// intact from the marker on.
//
//   node tests/js/integration/store.mjs path/to/cdeventsd path/to/cdevctl
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startDaemon, curl, postJson, checker, waitFor, waitForLog, sleep, pgMode, auditDb } from '../daemon.mjs';

const t = checker();
const [bin, cdevctl] = process.argv.slice(2, 4);
const hook = (d, id) => postJson(`${d.url}/v1/hooks/build`, { phase: 'started', subject: 'etl', id }, ['-i']);
const statusOf = (r) => Number(/^HTTP\/1\.1 (\d+)/m.exec(r.body)?.[1] ?? 0);
const prlimit = (pid, soft) => spawnSync('prlimit', ['--pid', String(pid), `--fsize=${soft}:unlimited`], { encoding: 'utf8' });
const verify = (db, ...args) => spawnSync(cdevctl, ['audit', 'verify', '--db', db, ...args], { encoding: 'utf8' });

// --- A full disk ---------------------------------------------------------
// (audit.db's file: on PostgreSQL the database going away is what
// replicas.mjs kills and restarts.)
if (pgMode) console.log('store: the full-disk part is for audit.db; skipped on PostgreSQL');
else {
  const d = await startDaemon(bin);
  const db = path.join(d.stateDir, 'audit.db');
  const acked = [];
  for (let i = 0; i < 20; i++) {
    const r = hook(d, `before-${i}`);
    if (statusOf(r) === 202) acked.push(`before-${i}`);
  }
  t.check(acked.length === 20, 'events are accepted while the disk has room', String(acked.length));

  const lim = prlimit(d.proc.pid, 1);
  t.check(lim.status === 0, 'prlimit can limit the daemon (same user)', lim.stderr);
  let refused = null;
  for (let i = 0; i < 200 && !refused; i++) {
    const r = hook(d, `full-${i}`);
    if (statusOf(r) === 202) acked.push(`full-${i}`);
    else refused = r;
  }
  t.check(refused && statusOf(refused) === 503, 'a write that fails is answered 503, never 202', refused?.body);
  t.check(/retry-after: \d+/i.test(refused?.body ?? ''), 'with Retry-After', refused?.body);
  // The housekeeping timer notices once a second.
  let ready;
  await waitFor(() => (ready = curl([`${d.url}/readyz`])).status === 503, 10000, { every: 100 });
  t.check(ready.status === 503, '/readyz fails while the store cannot write', ready.body);
  t.check(await waitForLog(d, /audit log cannot store events: .*(disk|full|I\/O|large|write)/i),
    'the log says why', d.log().slice(-600));
  t.check(curl([`${d.url}/healthz`]).status === 200, '/healthz still answers (the process is alive)');

  prlimit(d.proc.pid, 'unlimited');
  t.check(await waitFor(() => curl([`${d.url}/readyz`]).status === 200, 10000, { every: 100 }), '/readyz recovers on its own once the disk takes writes again, without traffic');
  for (let i = 0; i < 10; i++) {
    const r = hook(d, `after-${i}`);
    if (statusOf(r) === 202) acked.push(`after-${i}`);
  }
  t.check(acked.filter((id) => id.startsWith('after-')).length === 10, 'and events are accepted again');
  t.check(await waitForLog(d, 'audit log stores events again'), 'the recovery is logged', d.log().slice(-400));
  t.check(await d.stop() === 0, 'exits 0 on SIGTERM', d.log().slice(-400));

  const v = verify(db);
  t.check(v.status === 0, 'the chain verifies after the failures', v.stdout + v.stderr);
  const q = spawnSync(cdevctl, ['audit', 'query', '--db', db], { encoding: 'utf8' });
  const stored = new Set(q.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l).event.context.id));
  const lost = acked.filter((id) => !stored.has(id));
  t.check(lost.length === 0, `every event answered 202 is stored (${acked.length} of them)`, lost.join(','));
  console.log(`disk full: ${acked.length} acknowledged, ${stored.size} stored, 0 expected lost, ${lost.length} lost`);
}

// --- Retention ------------------------------------------------------------
{
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-retention-'));
  const key = path.join(dir, 'audit.key');
  fs.writeFileSync(key, crypto.randomBytes(32), { mode: 0o600 });
  const cfg = path.join(dir, 'cdeventsd.yaml');
  fs.writeFileSync(cfg, `audit:\n  hmac_key_file: ${key}\n  checkpoint_every: 4\n  max_age: 2s\n  retention_interval: 300ms\n`);
  const d = await startDaemon(bin, ['-c', cfg]);
  const db = auditDb(d.stateDir);
  for (let i = 0; i < 10; i++) hook(d, `old-${i}`);
  // Runs come every 300ms, so the old events may go in more than one;
  // they go once they are 2 s old.
  const deleted = () => [...d.log().matchAll(/retention: (\d+) events deleted, the chain now starts after seq (\d+) \(max_age/g)]
    .reduce((sum, m) => sum + Number(m[1]), 0);
  await waitFor(() => deleted() >= 10, 15000, { every: 100 });
  for (let i = 0; i < 3; i++) hook(d, `new-${i}`);
  // What is tested here is that nothing happens: three more runs, well
  // within the recent events' 2 s, must leave them alone.
  await sleep(900);
  t.check(deleted() === 10 && /the chain now starts after seq 10 /.test(d.log()),
    'retention deletes the events past max_age and logs it', d.log().slice(-600));
  const q = spawnSync(cdevctl, ['audit', 'query', '--db', db], { encoding: 'utf8' });
  const ids = q.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l).event.context.id);
  t.check(ids.join() === 'new-0,new-1,new-2', 'only the recent events remain', ids.join());
  const v = verify(db, '--key', key, '--every', '4');
  t.check(v.status === 0 && /rows 1 to 10 retired by retention \(\d+ markers, each signed\)/.test(v.stdout),
    'the chain verifies from the signed marker on', v.stdout + v.stderr);
  t.check(await d.stop() === 0, 'exits 0 on SIGTERM');
}

t.finish();
