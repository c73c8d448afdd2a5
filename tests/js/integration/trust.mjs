// Attacks on the daemon's trust, as an attacker or a careless operator
// would try them (issue 11), each reproduced against the real daemon and
// real SQLite files:
//
//  1. a SIGHUP reload must not take authentication off a listener that is
//     bound to a public address (the rule holds for the address bound, not
//     the one the new file names);
//  2. a second daemon on the same state directory is refused at start;
//  3. rows cut off the end of the log (meta fixed up by hand) fail
//     `cdevctl audit verify`, with and without the key;
//  4. acknowledged events lost with the WAL are noticed at start, and
//     their seqs are never given to other events;
//  5. an event whose (source, id) is stored with other content is a clash
//     (409), not a duplicate dropped with 200;
//  8. the log's tail is checked at start: a truncated or edited log is not
//     opened and appended to; accepting a loss is explicit and recorded;
// 15. a backup taken while the daemon runs holds what the WAL holds, and a
//     restore of it is noticed and recorded as a loss.
//
//   node tests/js/integration/trust.mjs path/to/cdeventsd path/to/cdevctl
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { startDaemon, postJson, curl, checker } from '../daemon.mjs';

const t = checker();
const [bin, cdevctl] = process.argv.slice(2, 4);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-trust-'));
const file = (name, text, mode = 0o600) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text, { mode });
  fs.chmodSync(p, mode);
  return p;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(pred, ms = 10000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(25))
    if (pred()) return true;
  return pred();
}
const hook = (d, id, extra = []) => postJson(`${d.url}/v1/hooks/build`, { phase: 'started', subject: 'etl', id }, extra);
const verify = (db, ...args) => spawnSync(cdevctl, ['audit', 'verify', '--db', db, ...args], { encoding: 'utf8' });
const sql = (db, text) => spawnSync('sqlite3', [db, text], { encoding: 'utf8' });
// Starts the daemon expecting it to refuse: its exit status and what it said.
const refusedStart = (args) => spawnSync(bin, ['--listen', '127.0.0.1:0', ...args], { encoding: 'utf8', timeout: 10000 });

// --- 1. A reload cannot take authentication off a public listener --------
{
  const token = crypto.randomBytes(24).toString('hex');
  const tokenFile = file('ci.token', token + '\n');
  const authed = `listen: 0.0.0.0:0\nprincipals:\n  - name: ci\n    scopes: [emit]\n    token_file: ${tokenFile}\n`;
  const cfg = file('public.yaml', authed);
  const d = await startDaemon(bin, ['-c', cfg], {}, { listenFlag: false });
  const bearer = ['-H', `Authorization: Bearer ${token}`];
  t.check(hook(d, 'r0').status === 401, 'a public listener with a principal refuses anonymous posts');

  const reloadAndWait = async (text, expect) => {
    fs.writeFileSync(cfg, text);
    const mark = d.log().length;
    d.proc.kill('SIGHUP');
    return waitFor(() => d.log().slice(mark).includes(expect));
  };
  t.check(await reloadAndWait('listen: 127.0.0.1:0\n', 'reload refused'),
    'a reload to "loopback, no principals" is refused while bound to 0.0.0.0', d.log().slice(-600));
  t.check(/0\.0\.0\.0/.test(d.log().split('reload refused').pop()), 'the refusal names the address bound',
    d.log().slice(-400));
  let r = hook(d, 'r1');
  t.check(r.status === 401, 'anonymous posts are still refused after it', `${r.status} ${r.body}`);
  t.check(hook(d, 'r2', bearer).status === 202, 'the principal still posts');

  t.check(await reloadAndWait('listen: 0.0.0.0:0\nauth: none\n', 'reload refused'),
    'a reload that switches authentication off on a public listener is refused', d.log().slice(-600));
  t.check(hook(d, 'r3').status === 401, 'anonymous posts are still refused after that too');
  t.check(await reloadAndWait(authed + 'log_level: debug\n', 'configuration reloaded'),
    'a reload that keeps the principals applies');
  t.check(await d.stop() === 0, 'exits 0', d.log().slice(-300));
}

// --- 12. A checkpoint key others can read ---------------------------------
{
  const loose = file('loose.key', crypto.randomBytes(32), 0o644);
  const cfg = file('loose.yaml', `audit:\n  hmac_key_file: ${loose}\n`);
  const s = refusedStart(['-c', cfg, '--state-dir', path.join(dir, 'loose-state')]);
  t.check(s.status === 1 && /hmac_key_file .*chmod 600/.test(s.stderr),
    'an audit key readable by others stops the start: whoever reads it can sign checkpoints', s.stderr);
}

// --- 2. One daemon per state directory -------------------------------------
{
  const a = await startDaemon(bin);
  t.check(hook(a, 'a1').status === 202, 'the first daemon accepts');
  const b = refusedStart(['--state-dir', a.stateDir]);
  t.check(b.status === 1, 'a second daemon on the same state directory exits 1', `${b.status} ${b.stderr}`);
  t.check(/in use by another cdeventsd \(pid \d+\)/.test(b.stderr), 'and says which process holds it', b.stderr);
  t.check(hook(a, 'a2').status === 202, 'the first daemon still accepts');
  t.check(await a.stop() === 0, 'and stops cleanly');
  const v = verify(path.join(a.stateDir, 'audit.db'));
  t.check(v.status === 0 && /intact, 2 events/.test(v.stdout), 'its log is intact', v.stdout + v.stderr);
}

// --- 3 and 8. Rows cut off the end; a tail edited ------------------------
const keyFile = file('audit.key', crypto.randomBytes(32));
const keyed = file('keyed.yaml', `audit:\n  hmac_key_file: ${keyFile}\n  checkpoint_every: 5\n`);
async function logOf(n) {
  const d = await startDaemon(bin, ['-c', keyed]);
  for (let i = 1; i <= n; i++) hook(d, `e${i}`);
  t.check(await d.stop() === 0, `a daemon with keyed checkpoints stores ${n} events`);
  return d.stateDir;
}
{
  const state = await logOf(12);
  const db = path.join(state, 'audit.db');
  // The attack of the issue: delete rows 8..12 and point meta at row 7.
  // The rows hold their leaves' hashes: a cut that leaves the Merkle tree
  // at 12 leaves a tree that cannot go on, refused as such.
  const sloppy = path.join(state, 'sloppy.db');
  fs.copyFileSync(db, sloppy);
  sql(sloppy, "DELETE FROM events WHERE seq > 7;" +
    "UPDATE meta SET value = (SELECT hash FROM events WHERE seq = 7) WHERE key = 'head_hash';" +
    "UPDATE meta SET value = '7' WHERE key = 'head_seq';");
  const sloppyState = path.join(dir, 'sloppy-state');
  fs.mkdirSync(sloppyState);
  fs.renameSync(sloppy, path.join(sloppyState, 'audit.db'));
  const so = refusedStart(['-c', keyed, '--state-dir', sloppyState, '--accept-log-loss']);
  t.check(so.status === 1 && /Merkle tree of 12 entries lacks a stored hash.*leaf_hash/.test(so.stderr),
    'rows cut under a Merkle tree left whole: refused, the missing hashes named', so.stderr);
  // The thorough attacker cuts the tree with them (the hashes of level 4
  // and up start at 16 leaves: 12 have none).
  const cut = sql(db, "DELETE FROM events WHERE seq > 7;" +
    "UPDATE meta SET value = (SELECT hash FROM events WHERE seq = 7) WHERE key = 'head_hash';" +
    "UPDATE meta SET value = '7' WHERE key IN ('head_seq', 'tree_size');");
  t.check(cut.status === 0, 'sqlite3 cuts the tail and fixes meta', cut.stderr);
  let v = verify(db);
  t.check(v.status === 1 && /chain ends at seq 7, but a checkpoint names seq 10/.test(v.stdout),
    'verify fails: a checkpoint names a seq past the head', v.stdout + v.stderr);
  v = verify(db, '--key', keyFile, '--every', '5');
  t.check(v.status === 1, 'verify --key fails too', v.stdout + v.stderr);

  const s = refusedStart(['-c', keyed, '--state-dir', state]);
  t.check(s.status === 1 && /seqs 8 to 12/.test(s.stderr) && /--accept-log-loss/.test(s.stderr),
    'the daemon refuses to open the truncated log, names the lost seqs and the way out', s.stderr);

  // Accepting the loss is explicit, logged, and recorded in the chain.
  const d = await startDaemon(bin, ['-c', keyed, '--state-dir', state, '--accept-log-loss']);
  t.check(/seqs 8 to 12 .*lost.*recorded/.test(d.log()), 'the acceptance is logged before the daemon listens', d.log());
  const r = hook(d, 'after-loss');
  t.check(r.status === 202 && r.json?.seq === 13, 'the next event gets seq 13: lost seqs are never reused',
    r.body);
  t.check(await d.stop() === 0, 'exits 0');
  v = verify(db, '--key', keyFile, '--every', '5');
  t.check(v.status === 0 && /seqs 8 to 12 lost/.test(v.stdout), 'verify passes and reports the accepted loss',
    v.stdout + v.stderr);
  // A gap record nobody signed does not pass for an accepted loss.
  sql(db, "UPDATE gaps SET reason = 'nothing to see' WHERE last = 12;");
  v = verify(db, '--key', keyFile, '--every', '5');
  t.check(v.status === 1, 'an edited loss record breaks the chain', v.stdout);
}
{
  // Everything deleted and meta reset: the checkpoints still tell.
  const state = await logOf(6);
  const db = path.join(state, 'audit.db');
  sql(db, "DELETE FROM events; UPDATE meta SET value = '0' WHERE key = 'head_seq';" +
    "UPDATE meta SET value = '" + '0'.repeat(64) + "' WHERE key = 'head_hash';");
  const v = verify(db);
  t.check(v.status === 1, 'an emptied log with meta reset fails verify', v.stdout);
}
{
  // The last row edited in place (after the last checkpoint).
  const state = await logOf(7);
  const db = path.join(state, 'audit.db');
  sql(db, "UPDATE events SET principal = 'someone' WHERE seq = 7;");
  const s = refusedStart(['-c', keyed, '--state-dir', state]);
  t.check(s.status === 1 && /seq 7/.test(s.stderr) && /hash/.test(s.stderr),
    'the daemon refuses a log whose tail was edited, naming the row', s.stderr);
  const a = refusedStart(['-c', keyed, '--state-dir', state, '--accept-log-loss']);
  t.check(a.status === 1, 'accepting a loss does not accept an edit', a.stderr);
}
{
  // The start line counts the rows, not what meta says.
  const state = await logOf(3);
  const d = await startDaemon(bin, ['-c', keyed, '--state-dir', state]);
  t.check(await waitFor(() => /audit log .*: 3 events, head seq 3/.test(d.log())), 'the start line reports the rows found',
    d.log());
  await d.stop();
}

// --- 5. A (source, id) claimed ahead of time -------------------------------
{
  const d = await startDaemon(bin);
  const event = (id, subject) => ({
    context: { specversion: '0.5.1', id, source: '/github', type: 'dev.cdevents.change.merged.0.3.0',
      timestamp: '2026-12-07T04:00:00Z' },
    subject: { id: subject, source: '/github', content: { repository: { id: 'org/etl', source: '/github' } } },
  });
  const ev = (id, subject) => postJson(`${d.url}/v1/events`, event(id, subject));
  t.check(ev('release-77', 'squatted').status === 202, 'a producer claims /github release-77 first');
  let r = ev('release-77', 'the-real-one');
  t.check(r.status === 409 && r.json?.details?.[0]?.pointer === '/context/id' && /seq 1\b/.test(r.body),
    'the real event with that id gets 409 naming /context/id and the stored seq, not "200 duplicate"',
    `${r.status} ${r.body}`);
  r = ev('release-77', 'squatted');
  t.check(r.status === 200 && r.json?.duplicate === true, 'a true re-send is still 200 duplicate', r.body);
  const h = { phase: 'started', subject: 'b', id: 'hook-1', source: '/jenkins/job/etl/1' };
  t.check(postJson(`${d.url}/v1/hooks/build`, h).status === 202, 'a hook with its own id is stored');
  t.check(postJson(`${d.url}/v1/hooks/build`, h).status === 200,
    'its retry is a duplicate, although the daemon stamps a new timestamp each time');
  t.check(postJson(`${d.url}/v1/hooks/build`, { ...h, subject: 'c' }).status === 409,
    'another hook body under the same id is a clash');
  // A batch is stored all or nothing: one clash keeps every event out.
  const batch = (...events) => curl(['-X', 'POST', '-H', 'Content-Type: application/cloudevents-batch+json',
    '--data-binary', JSON.stringify(events.map((data) => ({ specversion: '1.0', id: data.context.id,
      source: data.context.source, type: data.context.type, data }))), `${d.url}/v1/events`]);
  r = batch(event('batch-new', 'x'), event('release-77', 'other'));
  t.check(r.status === 409 && r.json?.details?.[0]?.pointer === '/1/context/id',
    'a batch with one clash is refused, naming its index', `${r.status} ${r.body}`);
  r = batch(event('batch-new', 'x'));
  t.check(r.status === 202, 'and none of it was stored: the corrected batch is new', `${r.status} ${r.body}`);
  t.check(await d.stop() === 0, 'exits 0');
  const v = verify(path.join(d.stateDir, 'audit.db'));
  t.check(v.status === 0 && /intact, 3 events/.test(v.stdout), 'the log holds the three events and verifies',
    v.stdout + v.stderr);
}

// --- verify while the daemon writes -----------------------------------------
// One snapshot for the whole check: a checkpoint or a head committed
// during the walk must not pass for rows cut off the end.
{
  const d = await startDaemon(bin, ['-c', keyed]);
  const db = path.join(d.stateDir, 'audit.db');
  let stop = false, posted = 0;
  const poster = (async () => {
    while (!stop) {
      const res = await fetch(`${d.url}/v1/hooks/build`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ phase: 'started', subject: 'live', id: `live-${posted}` }) });
      await res.arrayBuffer();
      posted++;
    }
  })();
  const runVerify = () => new Promise((resolve) => {
    const p = spawn(cdevctl, ['audit', 'verify', '--db', db]);
    let out = '';
    p.stdout.on('data', (c) => { out += c; });
    p.stderr.on('data', (c) => { out += c; });
    p.on('exit', (code) => resolve({ code, out }));
  });
  await waitFor(() => posted > 20);
  const runs = [];
  for (let i = 0; i < 15; i++) runs.push(await runVerify());
  stop = true;
  await poster;
  const failed = runs.filter((x) => x.code !== 0);
  t.check(failed.length === 0, `verify passes on a log written meanwhile (${posted} events posted during 15 runs)`,
    failed.map((x) => x.out).join(' | ').slice(0, 600));
  t.check(await d.stop() === 0, 'exits 0');
}

// --- 4. The WAL removed after a crash ---------------------------------------
{
  const d = await startDaemon(bin);
  const acked = [];
  for (let i = 0; i < 10; i++) {
    const r = hook(d, `w${i}`);
    if (r.status === 202) acked.push(r.json.seq);
  }
  t.check(acked.length === 10, '10 events acknowledged');
  d.proc.kill('SIGKILL');
  await new Promise((res) => d.proc.on('exit', res));
  const db = path.join(d.stateDir, 'audit.db');
  t.check(fs.existsSync(db + '-wal'), 'they are in the WAL when the daemon is killed');
  fs.rmSync(db + '-wal');
  fs.rmSync(db + '-shm', { force: true });
  const s = refusedStart(['--state-dir', d.stateDir]);
  t.check(s.status === 1 && /seqs 1 to 10/.test(s.stderr) && /acknowledged/.test(s.stderr),
    'the next start notices that acknowledged events are missing and refuses', s.stderr);
  const e = await startDaemon(bin, ['--state-dir', d.stateDir, '--accept-log-loss']);
  const r = hook(e, 'w-after');
  t.check(r.status === 202 && r.json?.seq === 11, 'after an explicit acceptance, seqs continue at 11', r.body);
  t.check(await e.stop() === 0, 'exits 0');
  const v = verify(db);
  t.check(v.status === 0 && /seqs 1 to 10 lost/.test(v.stdout), 'verify reports the loss it recorded', v.stdout + v.stderr);
}

// --- 15. Backup and restore ---------------------------------------------------
{
  const d = await startDaemon(bin);
  const db = path.join(d.stateDir, 'audit.db');
  for (let i = 0; i < 5; i++) hook(d, `b${i}`);
  // A plain copy of the file while the events sit in the WAL lacks them.
  fs.copyFileSync(db, path.join(dir, 'plain.db'));
  const plain = verify(path.join(dir, 'plain.db'));
  t.check(!/intact, 5 events/.test(plain.stdout), 'a copy of audit.db alone is not a backup', plain.stdout + plain.stderr);
  const backup = path.join(dir, 'backup.db');
  let b = spawnSync(cdevctl, ['audit', 'backup', '--db', db, '--out', backup], { encoding: 'utf8' });
  t.check(b.status === 0 && /5 events, head seq 5/.test(b.stdout), 'cdevctl audit backup copies all 5, WAL included, while the daemon runs',
    b.stdout + b.stderr);
  b = spawnSync(cdevctl, ['audit', 'backup', '--db', db, '--out', backup], { encoding: 'utf8' });
  t.check(b.status === 2 && /exists/.test(b.stderr), 'and never overwrites a file', b.stderr);
  for (let i = 5; i < 8; i++) hook(d, `b${i}`);
  t.check(await d.stop() === 0, 'exits 0');
  // Restore: the backup lacks seqs 6 to 8, which were acknowledged.
  fs.copyFileSync(backup, db);
  fs.rmSync(db + '-wal', { force: true });
  fs.rmSync(db + '-shm', { force: true });
  const s = refusedStart(['--state-dir', d.stateDir]);
  t.check(s.status === 1 && /seqs 6 to 8/.test(s.stderr), 'a restored older copy is noticed at start', s.stderr);
  const e = await startDaemon(bin, ['--state-dir', d.stateDir, '--accept-log-loss']);
  const r = hook(e, 'after-restore');
  t.check(r.status === 202 && r.json?.seq === 9, 'and after accepting the loss, seqs go on from 9', r.body);
  t.check(await e.stop() === 0, 'exits 0');
  const v = verify(db);
  t.check(v.status === 0 && /seqs 6 to 8 lost/.test(v.stdout), 'the restored log verifies, its loss recorded', v.stdout);
}

fs.rmSync(dir, { recursive: true });
t.finish();
