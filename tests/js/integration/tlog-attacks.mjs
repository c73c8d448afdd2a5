// The attacks of issue 14 on a real daemon's audit.db, each on a copy of
// the file, each checked with what an auditor keeps: a signed checkpoint
// (cdevctl audit checkpoint) and receipts (cdevctl audit prove inclusion)
// taken before the attack, and the public key. Each attack makes
// `cdevctl audit verify --checkpoint CP --pubkey KEY` exit 1 naming the
// first bad index (a range for a fork); every receipt taken before still
// verifies on its own, and the attacked file cannot prove the entry
// against the kept checkpoint any more. An intact copy passes.
//
//   node tests/js/integration/tlog-attacks.mjs path/to/cdeventsd path/to/cdevctl
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { startDaemon, checker, postJson, waitFor } from '../daemon.mjs';

const t = checker();
const [bin, cdevctl] = process.argv.slice(2, 4);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-tlog-attacks-'));
const state = path.join(dir, 'state');
fs.mkdirSync(state);

const ctl = (...args) => spawnSync(cdevctl, args, { encoding: 'utf8' });
const sql = (db, text) => {
  const r = spawnSync('sqlite3', ['-json', db, text], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3 ${db}: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
};

// The log's key; the daemon signs a checkpoint every 4 entries, and
// every 100 ms when the tree grew.
const key = path.join(dir, 'log.key');
t.check(ctl('audit', 'keygen', '--name', 'tlog-attacks.test/log', '--out', key).status === 0, 'keygen makes a key pair');
const pub = `${key}.pub`;
const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `audit:\n  signing_key_file: ${key}\n  tree_checkpoint_every: 4\n  tree_checkpoint_interval: 100ms\n`);

const db = path.join(state, 'audit.db');
const post = (d, n) => {
  const r = postJson(`${d.url}/v1/hooks/build`, { phase: 'started', subject: `subject-${n}`, id: `build-${n}` });
  t.check(r.status === 202, `event ${n} is acknowledged`, r.body);
};
const checkpointSize = () => {
  const r = ctl('audit', 'checkpoint', '--db', db);
  return r.status === 0 ? Number(r.stdout.split('\n')[1]) : 0;
};

// Six events, a clean stop (the WAL goes into the file); six more, a
// checkpoint of all twelve signed, and a crash.
let d = await startDaemon(bin, ['--state-dir', state, '-c', cfg]);
for (let n = 1; n <= 6; n++) post(d, n);
t.check(await d.stop() === 0, 'the daemon stops cleanly', d.log().slice(-400));
d = await startDaemon(bin, ['--state-dir', state, '-c', cfg]);
for (let n = 7; n <= 12; n++) post(d, n);
t.check(await waitFor(() => checkpointSize() === 12, 10000, { every: 50 }), 'a checkpoint of all 12 entries is signed');
d.proc.kill('SIGKILL');
await new Promise((r) => d.proc.on('exit', r));

// The crashed file as it was (WAL included), made whole in its own copy.
const copy = (name, from, withWal = false) => {
  const to = path.join(dir, `${name}.db`);
  fs.copyFileSync(from, to);
  if (withWal && fs.existsSync(`${from}-wal`)) fs.copyFileSync(`${from}-wal`, `${to}-wal`);
  return to;
};
const full = copy('full', db, true);
sql(full, 'PRAGMA wal_checkpoint(TRUNCATE)');

// What the auditor keeps: the checkpoint and a receipt per entry.
const cp = path.join(dir, 'checkpoint.txt');
const c = ctl('audit', 'checkpoint', '--db', full);
fs.writeFileSync(cp, c.stdout);
t.check(c.status === 0 && c.stdout.split('\n')[1] === '12', 'cdevctl audit checkpoint prints the signed note of 12 entries', c.stdout + c.stderr);
const receipts = new Map();
for (let seq = 1; seq <= 12; seq++) {
  const r = ctl('audit', 'prove', 'inclusion', String(seq), '--db', full);
  const file = path.join(dir, `receipt-${seq}.json`);
  fs.writeFileSync(file, r.stdout);
  receipts.set(seq, file);
  t.check(r.status === 0 && JSON.parse(r.stdout).checkpoint, `the receipt of seq ${seq} carries the checkpoint`, r.stderr);
}
const verify = (file, keyArg = pub) => ctl('audit', 'verify', '--checkpoint', cp, '--pubkey', keyArg, '--db', file);
const firstBad = (out) => /first bad index: (\d+)/.exec(out)?.[1];

const v = verify(copy('intact', full));
t.check(v.status === 0 && /holds against the checkpoint of 12 entries/.test(v.stdout), 'an intact copy holds against the checkpoint', v.stdout + v.stderr);
const r1 = ctl('audit', 'verify-receipt', '--pubkey', pub, receipts.get(5));
t.check(r1.status === 0, 'a receipt verifies with the public key alone', r1.stdout + r1.stderr);
const stranger = path.join(dir, 'other.key');
ctl('audit', 'keygen', '--name', 'tlog-attacks.test/log', '--out', stranger);
const vo = verify(full, `${stranger}.pub`);
t.check(vo.status === 1 && /does not verify with the key/.test(vo.stdout), 'a checkpoint checked with another key fails', vo.stdout + vo.stderr);
const forged = path.join(dir, 'forged.txt');
fs.writeFileSync(forged, fs.readFileSync(cp, 'utf8').replace('\n12\n', '\n13\n'));
const vf = ctl('audit', 'verify', '--checkpoint', forged, '--pubkey', pub, '--db', full);
t.check(vf.status === 1 && /does not verify with the key/.test(vf.stdout), 'a checkpoint whose size was edited fails its signature', vf.stdout + vf.stderr);

// The entry @seq, proven from the attacked file, against the kept
// checkpoint: no proof, or one that fails.
function provable(file, seq) {
  const r = ctl('audit', 'prove', 'inclusion', String(seq), '--size', '12', '--db', file);
  if (r.status !== 0) return false;
  const proof = JSON.parse(r.stdout);
  proof.checkpoint = fs.readFileSync(cp, 'utf8');
  const f = path.join(dir, `proof-${path.basename(file)}-${seq}.json`);
  fs.writeFileSync(f, JSON.stringify(proof));
  return ctl('audit', 'verify-receipt', '--pubkey', pub, f).status === 0;
}
t.check(provable(full, 10), 'the intact file proves an entry against the kept checkpoint');

// A forked log: the entry at leaf @leaf rewritten, and every stored hash
// above it recomputed (RFC 9162: leaf 0x00, node 0x01), so that rows and
// hashes agree; only the signed checkpoint can tell. The hashes are
// stored as tiles: 16 hashes of every fourth level to a blob, the levels
// between hashed up from the tile below; the leaves (level 0) in their
// rows, or in a tile for rows retention deleted.
const sha256 = (...parts) => createHash('sha256').update(Buffer.concat(parts)).digest();
function storedHashes(file) {
  const hashes = new Map();
  for (const r of sql(file, 'SELECT leaf, hex(leaf_hash) AS h FROM events WHERE leaf_hash IS NOT NULL')) hashes.set(`0,${r.leaf}`, Buffer.from(r.h, 'hex'));
  for (const t of sql(file, 'SELECT tile_level, idx, hex(hashes) AS h FROM tree_tiles')) {
    const blob = Buffer.from(t.h, 'hex');
    for (let i = 0; 32 * i < blob.length; i++) hashes.set(`${4 * t.tile_level},${16 * t.idx + i}`, blob.subarray(32 * i, 32 * i + 32));
  }
  return hashes;
}
const node = (hashes, level, idx) => (level % 4 === 0 ? hashes.get(`${level},${idx}`)
  : sha256(Buffer.from([1]), node(hashes, level - 1, 2 * idx), node(hashes, level - 1, 2 * idx + 1)));
// The hash at (@level, @idx) replaced inside its row or its tile's blob.
const splice = (level, idx, hash) => level === 0 ? `UPDATE events SET leaf_hash = X'${hash.toString('hex')}' WHERE leaf = ${idx};`
  : `UPDATE tree_tiles SET hashes = CAST(substr(hashes, 1, ${32 * (idx % 16)}) ||
  X'${hash.toString('hex')}' || substr(hashes, ${32 * (idx % 16) + 33}) AS BLOB)
  WHERE tile_level = ${level / 4} AND idx = ${Math.floor(idx / 16)};`;
function fork(file, seq) {
  const [row] = sql(file, `SELECT seq, leaf, received_at, principal, peer, event FROM events WHERE seq = ${seq}`);
  const entry = (ev) => canonicalize({ event: JSON.parse(ev), peer: row.peer, principal: row.principal, receivedAt: row.received_at, seq: row.seq });
  const stored = sql(file, `SELECT hex(leaf_hash) AS h FROM events WHERE seq = ${seq}`)[0].h;
  t.check(sha256(Buffer.from([0]), Buffer.from(entry(row.event))).toString('hex').toUpperCase() === stored,
    'the JS leaf of the row is the stored one (the fork is built like the daemon builds leaves)');
  const evil = row.event.replace(`"subject-${seq}"`, '"subject-evil"');
  const hashes = storedHashes(file);
  hashes.set(`0,${row.leaf}`, sha256(Buffer.from([0]), Buffer.from(entry(evil))));
  const updates = [`UPDATE events SET event = '${evil.replaceAll("'", "''")}' WHERE seq = ${seq};`,
    splice(0, row.leaf, hashes.get(`0,${row.leaf}`))];
  for (let level = 4; level < 64; level += 4) {
    const idx = Math.floor(row.leaf / 2 ** level), k = `${level},${idx}`;
    if (!hashes.has(k)) break;
    hashes.set(k, sha256(Buffer.from([1]), node(hashes, level - 1, 2 * idx), node(hashes, level - 1, 2 * idx + 1)));
    updates.push(splice(level, idx, hashes.get(k)));
  }
  sql(file, updates.join('\n'));
}

const attacks = [
  {
    name: 'a tail cut with meta fixed', seq: 12, fault: 'truncated', bad: '9',
    run: (f) => sql(f, `DELETE FROM events WHERE seq > 9;
      UPDATE meta SET value = '9' WHERE key IN ('head_seq', 'tree_size');
      UPDATE meta SET value = (SELECT hash FROM events WHERE seq = 9) WHERE key = 'head_hash';
      UPDATE tree_tiles SET hashes = substr(hashes, 1, 32 * max(0, min(16, (9 >> (4 * tile_level)) - 16 * idx)));
      DELETE FROM tree_tiles WHERE length(hashes) = 0;
      DELETE FROM tree_checkpoints WHERE size > 9;`),
  },
  { name: 'all rows deleted', seq: 1, fault: 'missing', bad: '0', run: (f) => sql(f, 'DELETE FROM events') },
  {
    name: 'a middle row edited', seq: 6, fault: 'altered', bad: '5',
    run: (f) => sql(f, `UPDATE events SET event = replace(event, '"subject-6"', '"subject-evil"') WHERE seq = 6`),
  },
  {
    name: 'two rows swapped', seq: 7, fault: 'altered', bad: '6',
    run: (f) => sql(f, `CREATE TEMP TABLE t AS SELECT seq, event FROM events WHERE seq IN (7, 8);
      UPDATE events SET event = (SELECT event FROM t WHERE t.seq = 15 - events.seq) WHERE seq IN (7, 8);`),
  },
  { name: 'a forked log', seq: 10, fault: 'forked', leaf: 9, run: (f) => fork(f, 10) },
];
for (const a of attacks) {
  const f = copy(a.name.replaceAll(' ', '-'), full);
  a.run(f);
  const r = verify(f);
  t.check(r.status === 1 && r.stdout.includes(`: ${a.fault}: `), `${a.name}: verify --checkpoint fails (${a.fault})`, r.stdout + r.stderr);
  if (a.bad !== undefined) {
    t.check(firstBad(r.stdout) === a.bad, `${a.name}: the first bad index is ${a.bad}`, r.stdout);
  } else {
    const m = /first bad index: in \[(\d+), (\d+)\)/.exec(r.stdout);
    t.check(m && Number(m[1]) <= a.leaf && a.leaf < Number(m[2]) && Number(m[2]) <= 12 && Number(m[1]) > 0,
      `${a.name}: the range holds the forked leaf, narrowed by the signed checkpoints in the log`, r.stdout);
  }
  t.check(ctl('audit', 'verify-receipt', '--pubkey', pub, receipts.get(a.seq)).status === 0,
    `${a.name}: the receipt of seq ${a.seq} still verifies on its own`);
  t.check(!provable(f, a.seq), `${a.name}: the file can no longer prove seq ${a.seq} against the kept checkpoint`);
}

// The WAL removed after the crash: the file alone is the log of before
// the second start.
const walless = copy('wal-removed', db);
const size = Number(sql(walless, "SELECT value FROM meta WHERE key = 'tree_size'")[0].value);
const w = verify(walless);
t.check(size < 12 && w.status === 1 && /truncated: the log has \d+ entries, the checkpoint 12/.test(w.stdout) &&
  firstBad(w.stdout) === String(size), 'a WAL removed after a crash: truncated at the entries the file kept', w.stdout + w.stderr);
t.check(ctl('audit', 'verify-receipt', '--pubkey', pub, receipts.get(12)).status === 0 && !provable(walless, 12),
  'a WAL removed after a crash: the receipt of seq 12 verifies, the file cannot prove it');

// --url: the daemon's checkpoint and consistency proof, checked by the
// client. For the attacked files a stand-in serves them with cdevctl, in
// the shapes of audit_proof.h (the daemon itself refuses to sign over a
// tree that no longer matches its checkpoints, see test_audit_tree).
async function serve(file, fn) {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const r = u.pathname === '/v1/log/checkpoint' ? ctl('audit', 'checkpoint', '--db', file)
      : ctl('audit', 'prove', 'consistency', u.searchParams.get('from'), u.searchParams.get('to'), '--db', file);
    res.writeHead(r.status === 0 ? 200 : 404);
    res.end(r.stdout);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await fn(`http://127.0.0.1:${server.address().port}`);
  } finally {
    server.close();
  }
}
const remote = (kept) => (url) => new Promise((resolve) => {
  const p = spawn(cdevctl, ['audit', 'verify', '--checkpoint', kept, '--pubkey', pub, '--url', url]);
  let out = '';
  p.stdout.on('data', (b) => { out += b; });
  p.stderr.on('data', (b) => { out += b; });
  p.on('exit', (status) => resolve({ status, out }));
});
// An earlier checkpoint, before the forked entry (leaf 9): the proof to
// the daemon's signed 12 must cover the fork.
const [early] = sql(full, 'SELECT size, note FROM tree_checkpoints WHERE size < 9 ORDER BY size DESC LIMIT 1');
const cpEarly = path.join(dir, 'checkpoint-early.txt');
fs.writeFileSync(cpEarly, early.note);
let u = await serve(full, remote(cp));
t.check(u.status === 0 && /holds: its signed tree of 12 entries extends the checkpoint of 12/.test(u.out), '--url: a daemon serving the intact log holds', u.out);
u = await serve(full, remote(cpEarly));
t.check(u.status === 0 && u.out.includes(`extends the checkpoint of ${early.size} `), '--url: the intact log extends an earlier checkpoint', u.out);
u = await serve(path.join(dir, 'a-forked-log.db'), remote(cpEarly));
t.check(u.status === 1 && /forked: /.test(u.out), '--url: a daemon serving a forked log fails the consistency proof from an earlier checkpoint', u.out);
u = await serve(walless, remote(cp));
t.check(u.status === 1 && /truncated: the log has \d+ entries, the checkpoint 12/.test(u.out), '--url: a daemon serving a shortened log is truncated', u.out);

// The same with the real daemon serving the intact log: its own
// endpoints, checked by the client against the checkpoints kept.
const liveState = path.join(dir, 'live');
fs.mkdirSync(liveState);
fs.copyFileSync(full, path.join(liveState, 'audit.db'));
const live = await startDaemon(bin, ['--state-dir', liveState, '-c', cfg]);
u = await remote(cp)(live.url);
t.check(u.status === 0 && /holds: its signed tree of 12 entries extends the checkpoint of 12/.test(u.out),
  '--url: the real daemon serving the intact log holds', u.out);
u = await remote(cpEarly)(live.url);
t.check(u.status === 0 && u.out.includes(`extends the checkpoint of ${early.size} `),
  '--url: the real daemon proves its tree extends an earlier checkpoint', u.out);
t.check(await live.stop() === 0, 'that daemon stops cleanly', live.log().slice(-400));

fs.rmSync(dir, { recursive: true, force: true });
t.finish();
