// cdevctl audit query|verify on PostgreSQL: a log the real daemon wrote
// to audit.db, copied row for row into the throwaway cluster
// (tests/pg/cluster sets CDE_PG_URL, CDE_PG_DIR), reads the same through
// --db URL as through --db FILE, for every filter; the password comes
// from a private file only; verify finds the chain intact and then the
// row an UPDATE changed, and with --key a log a daemon wrote there with a
// checkpoint key, its Merkle tree recomputed from the rows (a stored
// leaf changed is named); export --db URL writes the bundle --db FILE
// writes (but for when it was cut), which verify --bundle checks, and
// none once a row is changed.
//
//   tests/pg/cluster run node tests/js/integration/pg-cdevctl.mjs cdeventsd cdevctl pg_copy_log
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startDaemon, checker } from '../daemon.mjs';

const t = checker();
const [bin, cdevctl, copyLog] = process.argv.slice(2, 5);
const url = process.env.CDE_PG_URL, dir = process.env.CDE_PG_DIR;
if (!url || !dir) throw new Error('run under tests/pg/cluster run');
const N = 300;

const d = await startDaemon(bin);
const envs = ['dev', 'staging', 'prod'];
const batch = [];
for (let i = 0; i < N; i++) {
  const kind = i % 3, art = `pkg:oci/etl@${i % 20}`;
  const type = ['dev.cdevents.build.started.0.3.0', 'dev.cdevents.artifact.published.0.3.0',
    'dev.cdevents.service.deployed.0.3.0'][kind];
  batch.push({ specversion: '1.0', id: `e-${i}`, source: `/ci/${i % 4}`, type, data: {
    context: { specversion: '0.5.1', id: `e-${i}`, source: `/ci/${i % 4}`, type,
      timestamp: '2025-01-01T00:00:00Z', chainId: `rel-${Math.floor(i / 30)}` },
    subject: { id: kind === 1 ? art : `svc-${i % 10}`,
      content: kind === 2 ? { environment: { id: envs[i % 7 % 3] }, artifactId: art } : {} },
  } });
}
const loaded = await fetch(`${d.url}/v1/events`, {
  method: 'POST', headers: { 'Content-Type': 'application/cloudevents-batch+json' }, body: JSON.stringify(batch),
});
t.check(loaded.status === 202, `${N} events stored in audit.db`, await loaded.text());
t.check(await d.stop() === 0, 'the daemon exits 0');

const db = path.join(d.stateDir, 'audit.db');
const copied = spawnSync(copyLog, [db, url], { encoding: 'utf8' });
t.check(copied.status === 0, 'the log is copied into PostgreSQL', copied.stderr);

const run = (args) => spawnSync(cdevctl, ['audit', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
const filters = [
  [], ['--subject', 'svc-7'], ['--type', 'dev.cdevents.service.deployed'], ['--chain', 'rel-3'],
  ['--artifact', 'pkg:oci/etl@4'], ['--environment', 'prod', '--source', '/ci/2'],
  ['--since', '2000-01-01T05:00:00+05:00', '--limit', '7'], ['--until', '2000-01-01'],
  ['--subject', 'svc-3', '--order', 'desc', '--after', '200', '--limit', '4'],
  ['--type', 'dev.cdevents.artifact.published.0.3.0', '--table'],
];
for (const f of filters) {
  const fromFile = run(['query', '--db', db, ...f]), fromPg = run(['query', '--db', url, ...f]);
  t.check(fromFile.status === 0 && fromPg.status === 0 && fromPg.stdout === fromFile.stdout &&
    (f.includes('--until') || fromPg.stdout.length > 0),
  `cdevctl audit query ${f.join(' ') || '(everything)'} reads the same from PostgreSQL`,
  `${fromPg.status} ${fromPg.stderr} ${fromPg.stdout.slice(0, 200)} | ${fromFile.stdout.slice(0, 200)}`);
}

// Over TCP the cluster asks for the password: from --password-file only.
const port = fs.readFileSync(path.join(dir, 'port'), 'utf8').trim();
const tcp = `postgres://cdeventsd@127.0.0.1:${port}/cdeventsd`;
const pw = path.join(dir, 'password');
let r = run(['query', '--db', tcp, '--password-file', pw, '--chain', 'rel-2']);
t.check(r.status === 0 && r.stdout === run(['query', '--db', db, '--chain', 'rel-2']).stdout,
  'postgres:// over TCP with --password-file reads the log', r.stderr);
r = run(['query', '--db', tcp, '--chain', 'rel-2']);
t.check(r.status === 2 && r.stdout === '' && r.stderr.includes('connecting to the database'),
  'without the password file: exit 2, saying why', r.stderr);
fs.chmodSync(pw, 0o644);
r = run(['query', '--db', tcp, '--password-file', pw]);
t.check(r.status === 2 && r.stderr.includes('password_file'), 'a password file others may read is refused', r.stderr);
fs.chmodSync(pw, 0o600);

// verify: the chain is intact, then broken where a row was changed.
r = run(['verify', '--db', url]);
t.check(r.status === 0 && r.stdout.includes(`intact, ${N} events, head seq ${N}`), 'verify --db URL: intact', r.stdout + r.stderr);

// export: the same bundle from both, but for the header's exportedAt.
const butWhen = (bundle) => {
  const lines = bundle.split('\n'), header = JSON.parse(lines[0]);
  delete header.exportedAt;
  return [JSON.stringify(header), ...lines.slice(1)].join('\n');
};
const tmpBundles = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-pg-bundle-'));
for (const f of [[], ['--since', '2000-01-01', '--until', '2100-01-01']]) {
  const out = path.join(tmpBundles, 'pg.jsonl');
  const fromFile = run(['export', '--db', db, ...f]);
  r = run(['export', '--db', tcp, '--password-file', pw, '--out', out, ...f]);
  const fromPg = r.status === 0 ? fs.readFileSync(out, 'utf8') : '';
  t.check(fromFile.status === 0 && r.status === 0 && r.stderr.includes(`${N} events`) &&
    butWhen(fromPg) === butWhen(fromFile.stdout) && fromPg.split('\n').length > 2 * N,
  `export --db URL ${f.join(' ')} writes the bundle export --db FILE writes`, r.stderr + fromFile.stderr);
  r = run(['verify', '--bundle', out]);
  t.check(r.status === 0 && r.stdout.includes(`intact, ${N} events`), 'verify --bundle: the bundle from PostgreSQL is intact',
    r.stdout + r.stderr);
}
const psql = spawnSync('psql', [url, '-qv', 'ON_ERROR_STOP=1', '-c',
  "UPDATE events SET principal = 'mallory' WHERE seq = 42"], { encoding: 'utf8' });
t.check(psql.status === 0, 'a row is changed behind the daemon', psql.stderr);
r = run(['verify', '--db', url]);
t.check(r.status === 1 && r.stdout.includes('broken at seq 42'), 'verify finds the changed row', r.stdout + r.stderr);
r = run(['export', '--db', url]);
t.check(r.status === 2 && r.stdout === '' && r.stderr.includes('cannot export: the chain is broken at seq 42'),
  'export: no bundle from a log whose chain is broken', r.stdout.slice(0, 200) + r.stderr);

// verify --key: a log a daemon on PostgreSQL wrote with a checkpoint key
// (a database of its own) verifies with that key, and with no other.
{
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-pg-keyed-'));
  const key = path.join(tmp, 'hmac.key'), otherKey = path.join(tmp, 'other.key'), cfg = path.join(tmp, 'keyed.yaml');
  fs.writeFileSync(key, crypto.randomBytes(32), { mode: 0o600 });
  fs.writeFileSync(otherKey, crypto.randomBytes(32), { mode: 0o600 });
  const logKey = path.join(tmp, 'log.key');
  const gen = spawnSync(cdevctl, ['audit', 'keygen', '--name', 'ci.example/cdeventsd', '--out', logKey],
    { encoding: 'utf8' });
  t.check(gen.status === 0, 'a log signing key', gen.stderr);
  fs.writeFileSync(cfg, `audit:\n  hmac_key_file: ${key}\n  checkpoint_every: 4\n  signing_key_file: ${logKey}\n` +
    '  tree_checkpoint_every: 4\n');
  const made = spawnSync('psql', ['-h', dir, '-p', port, '-U', 'postgres', '-d', 'postgres', '-qc',
    'CREATE DATABASE keyed OWNER cdeventsd'], { encoding: 'utf8' });
  t.check(made.status === 0, 'a database for the keyed log', made.stderr);
  const keyedUrl = `host=${dir} port=${port} dbname=keyed user=cdeventsd`;
  const k = await startDaemon(bin, ['-c', cfg, '--storage-url', keyedUrl]);
  const res = await fetch(`${k.url}/v1/events`, {
    method: 'POST', headers: { 'Content-Type': 'application/cloudevents-batch+json' },
    body: JSON.stringify(batch.slice(0, 13)),
  });
  t.check(res.status === 202, '13 events stored in PostgreSQL with keyed checkpoints', await res.text());
  t.check(await k.stop() === 0, 'the keyed daemon exits 0');
  r = run(['verify', '--db', keyedUrl, '--key', key, '--every', '4']);
  t.check(r.status === 0 && r.stdout.includes('intact, 13 events') && r.stdout.includes('3 keyed checkpoints verified'),
    'verify --db URL --key: intact, its 3 keyed checkpoints verified', r.stdout + r.stderr);
  t.check(r.stdout.includes('Merkle tree: 13 entries, every row hashes to its leaf, head '),
    'verify --db URL recomputes the Merkle tree from the rows, as on audit.db', r.stdout + r.stderr);
  // verify --checkpoint: the signed checkpoint kept, the rows recomputed.
  const cp = run(['checkpoint', '--db', keyedUrl]);
  const kept = path.join(tmp, 'kept.txt');
  fs.writeFileSync(kept, cp.stdout);
  const againstKept = () => run(['verify', '--checkpoint', kept, '--pubkey', `${logKey}.pub`, '--db', keyedUrl]);
  r = againstKept();
  t.check(cp.status === 0 && r.status === 0 && /holds against the checkpoint of \d+ entries signed by ci.example\/cdeventsd: 13 rows recomputed/.test(r.stdout),
    'verify --checkpoint --db URL: the log holds it, every row recomputed', cp.stderr + r.stdout + r.stderr);
  // A stored leaf hash changed behind the daemon: the chain still holds,
  // the tree names the leaf.
  const flip = "UPDATE tree_tiles SET hashes = set_byte(hashes, 5 * 32, get_byte(hashes, 5 * 32) # 1)" +
    ' WHERE tile_level = 0 AND idx = 0';
  const tampered = spawnSync('psql', [keyedUrl, '-qv', 'ON_ERROR_STOP=1', '-c', flip], { encoding: 'utf8' });
  t.check(tampered.status === 0, 'a stored leaf hash is changed behind the daemon', tampered.stderr);
  r = run(['verify', '--db', keyedUrl]);
  t.check(r.status === 1 && r.stdout.includes('intact, 13 events') && r.stdout.includes(': altered: leaf 5 ') &&
    r.stdout.includes('first bad index: 5'), 'verify --db URL names the leaf whose stored hash changed',
  r.stdout + r.stderr);
  r = againstKept();
  t.check(r.status === 1 && r.stdout.includes('first bad index: 5'), 'verify --checkpoint --db URL: not held, at leaf 5',
    r.stdout + r.stderr);
  r = run(['verify', '--db', keyedUrl, '--key', otherKey, '--every', '4']);
  t.check(r.status === 1 && r.stdout.includes('broken at seq 4') && r.stdout.includes('HMAC is wrong'),
    'verify --key with another key: broken at the first checkpoint', r.stdout + r.stderr);
  // The same flip puts the byte back: the log is whole again, and exports.
  const restored = spawnSync('psql', [keyedUrl, '-qv', 'ON_ERROR_STOP=1', '-c', flip], { encoding: 'utf8' });
  r = run(['verify', '--db', keyedUrl]);
  t.check(restored.status === 0 && r.status === 0, 'the stored hash put back, verify holds again', r.stdout + r.stderr);
  const keyedBundle = path.join(tmp, 'keyed.jsonl');
  r = run(['export', '--db', keyedUrl, '--out', keyedBundle]);
  t.check(r.status === 0 && r.stderr.includes('13 events'), 'export --db URL of the keyed log', r.stderr);
  r = run(['verify', '--bundle', keyedBundle, '--key', key, '--every', '4']);
  t.check(r.status === 0 && r.stdout.includes('intact, 13 events') && r.stdout.includes('3 keyed checkpoints verified'),
    'verify --bundle --key: its 3 keyed checkpoints verified', r.stdout + r.stderr);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(k.stateDir, { recursive: true, force: true });
}

fs.rmSync(tmpBundles, { recursive: true, force: true });
fs.rmSync(d.stateDir, { recursive: true, force: true });
t.finish();
