// The transparency log over HTTP, checked by a verifier written here
// (tests/js/tlog.mjs: Node's crypto, RFC 9162, C2SP) with the verifier key
// the real `cdevctl audit keygen` printed: 202 answers carry each event's
// leaf, `?receipt=1` answers carry receipts that verify, every stored
// event's inclusion proof and every pair of checkpoints' consistency
// proof verify, altered proofs fail, and every bad request is a JSON
// error naming its parameter. With CDE_TEST_STORAGE=postgres (pg-transparency)
// the same, every answer read from PostgreSQL.
//
//   node tests/js/integration/transparency.mjs path/to/cdeventsd path/to/cdevctl
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { CloudEvent, HTTP } from 'cloudevents';
import { startDaemon, auditDb, auditSql, checker, curl, pgMode, postJson, waitFor, waitForLog } from '../daemon.mjs';
import { b64, leafHash, openCheckpoint, parseVerifierKey, verifyConsistency, verifyInclusion } from '../tlog.mjs';

const t = checker();
const [bin, cdevctl] = process.argv.slice(2, 4);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-tlog-'));
const keyFile = path.join(dir, 'log.key');
const gen = spawnSync(cdevctl, ['audit', 'keygen', '--name', 'ci.example/cdeventsd', '--out', keyFile], { encoding: 'utf8' });
if (gen.status !== 0) throw new Error(`keygen: ${gen.stderr}`);
const vkey = parseVerifierKey(gen.stdout);
const config = (name, audit) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, `audit:\n${audit}`);
  return p;
};
const d = await startDaemon(bin, ['-c', config('signed.yaml',
  `  signing_key_file: ${keyFile}\n  tree_checkpoint_every: 5\n  tree_checkpoint_interval: 1s\n`)]);

const get = (p) => curl([`${d.url}${p}`]);
const opens = (note) => { try { return openCheckpoint(note, vkey); } catch { return null; } };
const names = (r, param) => r.json?.details?.some((x) => x.pointer === `/query/${param}`);

// Every checkpoint the client saw, by size: the consistency proofs are
// asked between each pair.
const seen = new Map();
async function latestCheckpoint(atLeast) {
  let cp = null;
  await waitFor(() => {
    const r = get('/v1/log/checkpoint');
    cp = r.status === 200 ? opens(r.body) : null;
    if (cp) seen.set(cp.size, { ...cp, note: r.body });
    return cp && cp.size >= atLeast;
  }, 10000, { every: 100 });
  return cp;
}

// The events as posted, by seq, to recompute their leaves.
const posted = new Map();
const cdevent = (i) => ({
  context: { specversion: '0.5.1', id: `tl-${i}`, source: '/ci/tlog', type: 'dev.cdevents.build.started.0.3.0',
    timestamp: '2026-01-01T00:00:00Z', chainId: 'tlog-chain' },
  subject: { id: `build-${i}`, content: {} },
});
// A leaf as the verifier computes it: JCS of the event as posted plus the
// audit row's metadata (audit_tree.h).
function entryOf(event, row) {
  return canonicalize({ event, peer: row.peer, principal: row.principal, receivedAt: row.receivedAt, seq: row.seq });
}

// --- 202 answers carry the leaf --------------------------------------
{
  const r = get('/v1/log/checkpoint');
  t.check(r.status === 404 && /no signed checkpoint yet/.test(r.json?.details?.[0]?.reason),
    'before the first event: GET /v1/log/checkpoint is 404, none made yet', r.body);
}
{
  const r = postJson(`${d.url}/v1/hooks/build`, { phase: 'started', subject: 'b1', id: 'hook-1', source: '/ci/tlog' });
  t.check(r.status === 202 && Number.isInteger(r.json?.leafIndex) && typeof r.json?.leafHash === 'string',
    'a hook\'s 202 carries leafIndex and leafHash next to seq', r.body);
}
for (let i = 0; i < 12; i++) {
  const ev = cdevent(i);
  const ce = new CloudEvent({ specversion: '1.0', id: ev.context.id, source: ev.context.source, type: ev.context.type,
    datacontenttype: 'application/json', data: ev });
  const msg = HTTP[i % 2 ? 'binary' : 'structured'](ce);
  const res = await fetch(`${d.url}/v1/events`, { method: 'POST', headers: msg.headers, body: msg.body });
  const body = await res.json();
  t.check(res.status === 202 && Number.isInteger(body.seq) && Number.isInteger(body.leafIndex) &&
    b64(body.leafHash).length === 32, `CloudEvents SDK post ${i}: 202 with seq, leafIndex, leafHash`, JSON.stringify(body));
  posted.set(body.seq, { event: ev, leafIndex: body.leafIndex, leafHash: body.leafHash });
}
for (const [seq, p] of posted) {
  const row = get(`/v1/events/${p.event.context.id}`).json?.events?.[0];
  t.check(row && leafHash(entryOf(p.event, row)).toString('base64') === p.leafHash,
    `seq ${seq}: leafHash is SHA-256(0x00 || JCS of the event as posted and its audit row)`, JSON.stringify(row));
}

// --- inclusion of every event, consistency of every pair ---------------
const total = posted.size + 1;
const latest = await latestCheckpoint(total);
t.check(latest && latest.size >= total && latest.origin === 'ci.example/cdeventsd',
  'GET /v1/log/checkpoint: a note signed by the keygen key covering every event', JSON.stringify(latest));
{
  const r = curl(['-i', `${d.url}/v1/log/checkpoint`]);
  t.check(/content-type: text\/plain; charset=utf-8/i.test(r.body), 'the checkpoint is text/plain; charset=utf-8', r.body);
  const stored = auditSql(d.stateDir, `SELECT note FROM tree_checkpoints WHERE size = ${latest.size}`).stdout;
  t.check(stored === seen.get(latest.size).note + '\n', 'the checkpoint is served byte for byte as stored', stored);
}
let proofs = 0;
for (let seq = 1; seq <= total; seq++) {
  const r = get(`/v1/log/proof/inclusion?seq=${seq}&size=${latest.size}`);
  const p = r.json;
  const ok = r.status === 200 && p.treeSize === latest.size && p.checkpoint === seen.get(latest.size).note &&
    b64(p.leafHash).equals(leafHash(p.entry)) &&
    verifyInclusion(b64(p.leafHash), p.leafIndex, p.treeSize, p.inclusionProof.map(b64), latest.root);
  t.check(ok, `seq ${seq}: its inclusion proof verifies against the checkpoint`, r.body);
  if (ok && posted.has(seq))
    t.check(p.leafHash === posted.get(seq).leafHash && p.leafIndex === posted.get(seq).leafIndex,
      `seq ${seq}: the proof's leaf is the 202's`, r.body);
  if (!ok) continue;
  proofs++;
  // Altered proofs fail.
  if (p.inclusionProof.length) {
    const bad = p.inclusionProof.map(b64);
    bad[0][5] ^= 1;
    t.check(!verifyInclusion(b64(p.leafHash), p.leafIndex, p.treeSize, bad, latest.root),
      `seq ${seq}: a flipped bit in the proof fails`);
  }
  t.check(!verifyInclusion(b64(p.leafHash), p.leafIndex + 1, p.treeSize, p.inclusionProof.map(b64), latest.root) ||
    p.treeSize === 1, `seq ${seq}: the proof fails for another index`);
}
t.check(proofs === total, `all ${total} inclusion proofs verify`);
{
  const p = posted.get(2) ? { seq: 2, ...posted.get(2) } : null;
  const r = get(`/v1/log/proof/inclusion?source=${encodeURIComponent('/ci/tlog')}&id=${p.event.context.id}`);
  t.check(r.status === 200 && r.json.seq === 2 && r.json.leafHash === p.leafHash,
    'an inclusion proof is found by source and id', r.body);
}
// One more checkpoint, so there are pairs to prove.
postJson(`${d.url}/v1/hooks/build`, { phase: 'started', subject: 'b2', id: 'hook-2', source: '/ci/tlog' });
await latestCheckpoint(total + 1);
const sizes = [...seen.keys()].sort((a, b) => a - b);
t.check(sizes.length >= 2, 'two checkpoints or more were seen', sizes.join(','));
for (const from of sizes) {
  for (const to of sizes) {
    if (from > to) continue;
    const r = get(`/v1/log/proof/consistency?from=${from}&to=${to}`);
    const proof = r.json?.consistencyProof?.map(b64);
    const ok = r.status === 200 && r.json.from === from && r.json.to === to && r.json.checkpoint === seen.get(to).note &&
      verifyConsistency(from, to, proof, seen.get(from).root, seen.get(to).root);
    t.check(ok, `consistency from ${from} to ${to} verifies`, r.body);
    if (ok && proof.length) {
      proof[proof.length - 1][0] ^= 0x80;
      t.check(!verifyConsistency(from, to, proof, seen.get(from).root, seen.get(to).root),
        `consistency from ${from} to ${to}: an altered proof fails`);
    }
  }
}

// --- cdevctl reads the same from the log's store ---------------------------
{
  const ctl = (...args) => spawnSync(cdevctl, ['audit', ...args, '--db', auditDb(d.stateDir)], { encoding: 'utf8' });
  const c = ctl('checkpoint');
  const cp = c.status === 0 ? opens(c.stdout) : null;
  t.check(cp && cp.size >= latest.size, 'cdevctl audit checkpoint --db: the latest signed note', c.stdout + c.stderr);
  const inc = ctl('prove', 'inclusion', '2', '--size', String(latest.size));
  t.check(inc.status === 0 && inc.stdout.trim() === get(`/v1/log/proof/inclusion?seq=2&size=${latest.size}`).body,
    'cdevctl audit prove inclusion --db: the proof GET serves', inc.stdout + inc.stderr);
  const con = ctl('prove', 'consistency', String(sizes[0]), String(sizes[sizes.length - 1]));
  t.check(con.status === 0 &&
    con.stdout.trim() === get(`/v1/log/proof/consistency?from=${sizes[0]}&to=${sizes[sizes.length - 1]}`).body,
  'cdevctl audit prove consistency --db: the proof GET serves', con.stdout + con.stderr);
  // A checkpoint kept elsewhere: the log still holds it.
  const kept = path.join(dir, 'kept-checkpoint.txt');
  fs.writeFileSync(kept, seen.get(sizes[0]).note);
  const v = spawnSync(cdevctl, ['audit', 'verify', '--checkpoint', kept, '--pubkey', `${keyFile}.pub`,
    '--db', auditDb(d.stateDir)], { encoding: 'utf8' });
  t.check(v.status === 0 && /holds/.test(v.stdout), 'cdevctl audit verify --checkpoint --db: the log holds it',
    v.stdout + v.stderr);
}

// --- receipts ------------------------------------------------------------
function checkReceipt(rc, event, name) {
  let ok = false, why = '';
  try {
    const cp = openCheckpoint(rc.checkpoint, vkey);
    ok = cp.size === rc.treeSize && b64(rc.leafHash).equals(leafHash(rc.entry)) &&
      JSON.stringify(JSON.parse(rc.entry).event) === JSON.stringify(JSON.parse(canonicalize(event))) &&
      verifyInclusion(b64(rc.leafHash), rc.leafIndex, rc.treeSize, rc.inclusionProof.map(b64), cp.root);
  } catch (e) { why = e.message; }
  t.check(ok, name, why || JSON.stringify(rc));
}
{
  const ev = cdevent(100);
  const ce = new CloudEvent({ specversion: '1.0', id: ev.context.id, source: ev.context.source, type: ev.context.type,
    datacontenttype: 'application/json', data: ev });
  const msg = HTTP.binary(ce);
  const res = await fetch(`${d.url}/v1/events?receipt=1`, { method: 'POST', headers: msg.headers, body: msg.body });
  const body = await res.json();
  t.check(res.status === 202 && body.receipt && body.receipt.seq === body.seq && body.receipt.leafHash === body.leafHash,
    '?receipt=1 waits for a checkpoint and answers 202 with a receipt', JSON.stringify(body));
  if (body.receipt) checkReceipt(body.receipt, ev, 'the receipt verifies with the verifier key alone');
}
{
  const evs = [101, 102, 103].map(cdevent);
  const batch = evs.map((e) => ({ specversion: '1.0', id: e.context.id, source: e.context.source, type: e.context.type,
    datacontenttype: 'application/json', data: e }));
  const r = curl(['-X', 'POST', '-H', 'Content-Type: application/cloudevents-batch+json',
    '--data-binary', JSON.stringify(batch), `${d.url}/v1/events?receipt=1`]);
  t.check(r.status === 202 && r.json?.events?.length === 3 && r.json.events.every((e) => e.receipt),
    'a batch with ?receipt=1 has a receipt per event', r.body);
  (r.json?.events || []).forEach((e, i) => e.receipt && checkReceipt(e.receipt, evs[i], `batch receipt ${i} verifies`));
}
{
  const r = postJson(`${d.url}/v1/hooks/build?receipt=1`, { phase: 'finished', subject: 'b3', id: 'hook-3', source: '/ci/tlog' });
  t.check(r.status === 202 && r.json?.receipt?.checkpoint && opens(r.json.receipt.checkpoint),
    'a hook with ?receipt=1 gets a receipt', r.body);
  const again = postJson(`${d.url}/v1/hooks/build?receipt=1`, { phase: 'finished', subject: 'b3', id: 'hook-3', source: '/ci/tlog' });
  t.check(again.status === 200 && again.json?.duplicate === true && !again.json.receipt,
    'a re-sent event with ?receipt=1: 200 duplicate at once, no receipt (ask the inclusion proof)', again.body);
}

// --- errors ------------------------------------------------------------
const errors = [
  ['/v1/log/proof/inclusion', 400, 'seq', 'neither seq nor source and id'],
  ['/v1/log/proof/inclusion?seq=abc', 400, 'seq', 'seq not a number'],
  ['/v1/log/proof/inclusion?seq=0', 400, 'seq', 'seq 0'],
  ['/v1/log/proof/inclusion?seq=1&id=tl-1&source=/ci/tlog', 400, 'seq', 'both seq and id'],
  ['/v1/log/proof/inclusion?id=tl-1', 400, 'source', 'id without source'],
  ['/v1/log/proof/inclusion?seq=1&size=0', 400, 'size', 'size 0'],
  ['/v1/log/proof/inclusion?seq=1&size=x', 400, 'size', 'size not a number'],
  ['/v1/log/proof/inclusion?seq=1&size=100000', 400, 'size', 'size beyond the tree'],
  ['/v1/log/proof/inclusion?seq=1&colour=red', 400, 'colour', 'an unknown parameter'],
  ['/v1/log/proof/inclusion?seq=99999', 404, null, 'a seq not in the log'],
  ['/v1/log/proof/inclusion?source=/nowhere&id=nothing', 404, null, 'an id not in the log'],
  [`/v1/log/proof/inclusion?seq=${total}&size=1`, 409, null, 'an entry not in the first size leaves'],
  ['/v1/log/proof/consistency', 400, 'from', 'consistency without from'],
  ['/v1/log/proof/consistency?from=0', 400, 'from', 'consistency from 0'],
  ['/v1/log/proof/consistency?from=3&to=2', 400, 'from', 'from after to'],
  ['/v1/log/proof/consistency?from=1&to=100000', 400, 'to', 'to beyond the tree'],
  ['/v1/log/proof/consistency?from=1&to=zz', 400, 'to', 'to not a number'],
];
for (const [p, status, param, name] of errors) {
  const r = get(p);
  t.check(r.status === status && typeof r.json?.error === 'string' && (!param || names(r, param)),
    `${name}: ${status}${param ? ' naming ' + param : ''} with a JSON body`, `${r.status} ${r.body}`);
}

// A row edited behind the daemon's back no longer hashes to its leaf: 409,
// and an error line in the log.
{
  const from = d.log().length;
  const s = auditSql(d.stateDir, "UPDATE events SET principal = 'mallory' WHERE seq = 3");
  t.check(s.status === 0, 'a row is edited in the database', s.stderr);
  const r = get('/v1/log/proof/inclusion?seq=3');
  t.check(r.status === 409 && /altered/.test(JSON.stringify(r.json)), 'an edited row: 409 saying it was altered', r.body);
  t.check(await waitForLog(d, /level=error.*altered|"level":"error".*altered/, from), 'and an error line in the log', d.log().slice(from));
}
// The same for a row's leaf hash edited after a proof read it: the reader
// keeps the tree's edge between proofs, and still finds it. (In audit.db:
// PostgreSQL keeps the leaves in its tiles, and no edge between proofs.)
if (!pgMode) {
  t.check(get('/v1/log/proof/inclusion?seq=4').status === 200, 'a proof of seq 4 (the reader now holds its leaf)');
  const from = d.log().length;
  const s = auditSql(d.stateDir, 'UPDATE events SET leaf_hash = randomblob(32) WHERE seq = 4');
  t.check(s.status === 0, 'its leaf hash is edited in the database', s.stderr);
  const r = get('/v1/log/proof/inclusion?seq=4');
  t.check(r.status === 409 && /altered/.test(JSON.stringify(r.json)), 'an edited leaf hash: 409 saying it was altered', r.body);
  t.check(await waitForLog(d, /level=error.*seq 4 .*altered|"level":"error".*seq 4 .*altered/, from),
    'and an error line in the log', d.log().slice(from));
  // Damaged (not a hash): the leaf is not stored, as a reader without the
  // edge would say.
  const dmg = auditSql(d.stateDir, "UPDATE events SET leaf_hash = x'00' WHERE seq = 4");
  t.check(dmg.status === 0, 'its leaf hash is damaged in the database', dmg.stderr);
  const r2 = get('/v1/log/proof/inclusion?seq=4');
  t.check(r2.status === 500 && /leaf 3 is not stored/.test(r2.body), 'a damaged leaf hash: 500, the leaf not stored', r2.body);
}
t.check(await d.stop() === 0, 'the signing daemon exits 0');

// --- without a signing key ------------------------------------------------
const u = await startDaemon(bin);
{
  const r = curl([`${u.url}/v1/log/checkpoint`]);
  t.check(r.status === 404 && /signing_key_file/.test(r.json?.details?.[0]?.reason || r.json?.error),
    'no signing key: GET /v1/log/checkpoint is 404 naming audit.signing_key_file', r.body);
  const rc = postJson(`${u.url}/v1/hooks/build?receipt=1`, { phase: 'started', subject: 'b', id: 'nokey', source: '/ci' });
  t.check(rc.status === 400 && rc.json?.details?.some((x) => x.pointer === '/query/receipt' && /signing_key_file/.test(x.reason)),
    'no signing key: ?receipt=1 is 400 naming receipt', rc.body);
  t.check(curl([`${u.url}/v1/events/nokey`]).status === 404, 'and nothing was stored');
  const ok = postJson(`${u.url}/v1/hooks/build`, { phase: 'started', subject: 'b', id: 'nokey2', source: '/ci' });
  t.check(ok.status === 202 && Number.isInteger(ok.json?.leafIndex) && ok.json?.leafHash,
    'no signing key: a 202 still carries the leaf', ok.body);
  const inc = curl([`${u.url}/v1/log/proof/inclusion?seq=1`]);
  t.check(inc.status === 200 && !inc.json.checkpoint && inc.json.treeSize === 1,
    'no signing key: an inclusion proof in the whole tree, without a checkpoint', inc.body);
}
t.check(await u.stop() === 0, 'the daemon without a key exits 0');

// --- a parked receipt when the daemon stops --------------------------------
const slow = await startDaemon(bin, ['-c', config('slow.yaml',
  `  signing_key_file: ${keyFile}\n  tree_checkpoint_every: 1000\n  tree_checkpoint_interval: 1h\nlimits: { queue_max: 2 }\n`)]);
{
  const from = slow.log().length;
  // One parked event of the two queue_max allows...
  const first = fetch(`${slow.url}/v1/hooks/build?receipt=1`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ phase: 'started', subject: 'b', id: 'parked-0', source: '/ci' }) });
  await waitForLog(slow, 'event accepted', from);
  // ...so a batch of two more waiting for receipts is refused before it is stored.
  const batch = [200, 201].map(cdevent).map((e) => ({ specversion: '1.0', id: e.context.id, source: e.context.source,
    type: e.context.type, datacontenttype: 'application/json', data: e }));
  const over = curl(['-X', 'POST', '-H', 'Content-Type: application/cloudevents-batch+json',
    '--data-binary', JSON.stringify(batch), `${slow.url}/v1/events?receipt=1`]);
  t.check(over.status === 503 && names(over, 'receipt') && /limits.queue_max/.test(over.body),
    'receipts waiting past limits.queue_max: 503 naming receipt', over.body);
  t.check(curl([`${slow.url}/v1/events/${cdevent(200).context.id}`]).status === 404, 'and the refused events were not stored');
  const plain = postJson(`${slow.url}/v1/hooks/build`, { phase: 'started', subject: 'b', id: 'no-receipt', source: '/ci' });
  t.check(plain.status === 202, 'a post without ?receipt=1 is not held back by them', plain.body);
  const pending = fetch(`${slow.url}/v1/hooks/build?receipt=1`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ phase: 'started', subject: 'b', id: 'parked', source: '/ci' }) });
  await waitFor(() => (slow.log().slice(from).match(/event accepted/g) || []).length >= 3);
  const stopped = slow.stop();
  for (const res of await Promise.all([first, pending])) {
    const body = await res.json();
    t.check(res.status === 202 && Number.isInteger(body.seq) && !body.receipt && /stop/.test(body.receiptUnavailable),
      'a receipt still waited for when the daemon stops: 202, stored, and why there is no receipt', JSON.stringify(body));
  }
  t.check(await stopped === 0, 'the daemon with a parked receipt exits 0');
}
t.finish();
