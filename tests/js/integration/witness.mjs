// Witnessing and evidence bundles: a daemon with a signing key sends every
// signed checkpoint of its audit log to a file sink and to a webhook (a
// real receiver on loopback), both configured with `checkpoints: true`.
// Each note a witness holds is checked here with Node's own Ed25519 and
// the verifier key alone. The receiver goes down, more events (and
// checkpoints) come, the daemon restarts, the receiver comes back: every
// missed checkpoint arrives (at least once). Then an evidence bundle is
// exported and checked with the public key only, and a bundle with one
// event edited fails, naming its seq.
//
//   node tests/js/integration/witness.mjs path/to/cdeventsd path/to/cdevctl
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startDaemon, postJson, checker, waitFor, waitForSinks } from '../daemon.mjs';

const t = checker();
const [bin, cdevctl] = process.argv.slice(2, 4);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-witness-'));
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-witness-state-'));
const db = path.join(state, 'audit.db');
const run = (args) => spawnSync(cdevctl, args, { encoding: 'utf8' });

// --- the key -------------------------------------------------------------
const keyFile = path.join(dir, 'log.key');
const gen = run(['audit', 'keygen', '--name', 'ci.example/witness-test', '--out', keyFile]);
t.check(gen.status === 0, 'cdevctl audit keygen makes a key', gen.stderr);
const vkey = fs.readFileSync(`${keyFile}.pub`, 'utf8').trim();

// The note's signed text, checked with Node's crypto and the verifier key
// string alone (C2SP signed-note, Ed25519): {origin, size, root} or null.
function openCheckpoint(note) {
  const [name, idHex, key64] = [vkey.split('+')[0], vkey.split('+')[1], vkey.split('+').slice(2).join('+')];
  const raw = Buffer.from(key64, 'base64');
  const pub = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') }, format: 'jwk' });
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) return null;
  const text = note.slice(0, split + 1);
  const ok = note.slice(split + 2, -1).split('\n').some((line) => {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m || m[1] !== name) return false;
    const sig = Buffer.from(m[2], 'base64');
    return sig.readUInt32BE(0) === parseInt(idHex, 16) && crypto.verify(null, Buffer.from(text), pub, sig.subarray(4));
  });
  const [origin, size, root] = text.split('\n');
  return ok ? { origin, size: Number(size), root } : null;
}

// --- the webhook witness -------------------------------------------------
const secretBytes = crypto.randomBytes(32);
const secretFile = path.join(dir, 'hook.secret');
fs.writeFileSync(secretFile, `whsec_${secretBytes.toString('base64')}\n`, { mode: 0o600 });
// Standard Webhooks: v1,base64(HMAC-SHA256(secret, "id.timestamp.body")).
const signedBySecret = (h, body) => h['webhook-signature'] ===
  `v1,${crypto.createHmac('sha256', secretBytes).update(`${h['webhook-id']}.${h['webhook-timestamp']}.${body}`).digest('base64')}`;
const received = [];   // {size header, content type, note, signed}
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const note = Buffer.concat(chunks).toString('utf8');
    received.push({ size: Number(req.headers['cdeventsd-checkpoint-size']), type: req.headers['content-type'],
      note, signed: signedBySecret(req.headers, note), id: req.headers['webhook-id'] });
    res.writeHead(200);
    res.end();
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;
const stopReceiver = () => new Promise((r) => { server.close(r); server.closeAllConnections(); });
const startReceiver = () => new Promise((r) => server.listen(port, '127.0.0.1', r));

const witnessFile = path.join(dir, 'checkpoints.jsonl');
const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `
audit:
  signing_key_file: ${keyFile}
  tree_checkpoint_every: 2
  tree_checkpoint_interval: 300ms
sinks:
  - name: witness-file
    type: file
    path: ${witnessFile}
    checkpoints: true
  - name: witness-hook
    type: webhook
    url: http://127.0.0.1:${port}/checkpoints
    checkpoints: true
    secret_file: ${secretFile}
    timeout: 1s
    max_backoff: 200ms
    max_attempts: 1000
`);
// The file witness: one JSON line per checkpoint, {"size", "checkpoint"}.
const fileNotes = () => (fs.existsSync(witnessFile) ? fs.readFileSync(witnessFile, 'utf8') : '')
  .split('\n').filter(Boolean).map((l) => JSON.parse(l));
const sizesOf = (list) => list.map((x) => x.size);
const hookHas = (size) => received.some((r) => r.size === size);
const fileHas = (size) => fileNotes().some((r) => r.size === size);

let d = await startDaemon(bin, ['-c', cfg, '--state-dir', state]);
const post = async (n, from) => {
  for (let i = 0; i < n; i++) {
    const r = postJson(`${d.url}/v1/hooks/build`, { phase: 'finished', subject: `job-${from + i}` });
    if (r.status !== 202) return false;
  }
  return true;
};

// --- both witnesses get the checkpoints ----------------------------------
t.check(await post(5, 1), 'five events accepted');
t.check(await waitFor(() => fileHas(5) && hookHas(5), 10000),
  'both witnesses hold the checkpoint of all five events', JSON.stringify({ file: sizesOf(fileNotes()), hook: sizesOf(received) }));
for (const { size, checkpoint } of fileNotes()) {
  const c = openCheckpoint(checkpoint);
  t.check(c && c.size === size && c.origin === 'ci.example/witness-test',
    `the file witness's checkpoint of ${size} verifies with the public key alone`, checkpoint);
}
for (const r of received) {
  const c = openCheckpoint(r.note);
  t.check(c && c.size === r.size && r.type.startsWith('text/plain') && r.signed,
    `the webhook witness's checkpoint of ${r.size} is the signed note as text/plain (Standard Webhooks signed), ` +
    "verified with Node's Ed25519", JSON.stringify(r));
}
const sizes = sizesOf(fileNotes());
t.check(sizes.every((s, i) => i === 0 || s > sizes[i - 1]), 'checkpoints reach a witness in tree-size order', sizes.join());
const five = (list) => list.find((x) => x.size === 5);
t.check(five(fileNotes()).checkpoint === five(received).note, 'both witnesses hold the same note');

// --- a receiver down, a restart: the missed checkpoints arrive ----------
await stopReceiver();
const before = received.length;
t.check(await post(4, 6), 'four more events accepted while the receiver is down');
t.check(await waitFor(() => fileHas(9), 10000), 'the file witness goes on meanwhile', sizesOf(fileNotes()).join());
t.check(received.length === before && !hookHas(9), 'the webhook witness has none of them yet');
const down = await waitForSinks(d, { 'witness-hook': (s) => s.checkpoints?.pending && s.lastError });
const hookStatus = down?.sinks.find((s) => s.name === 'witness-hook');
t.check(hookStatus?.checkpoints.witnessedSize === 5 && Number(/^checkpoint (\d+):/.exec(hookStatus.lastError)?.[1]) > 5,
  'GET /v1/sinks shows the witness at size 5, retrying the next checkpoint', JSON.stringify(hookStatus));
t.check(await d.stop() === 0, 'the daemon stops cleanly with checkpoints undelivered');
d = await startDaemon(bin, ['-c', cfg, '--state-dir', state]);
await startReceiver();
const missed = sizesOf(fileNotes()).filter((s) => s > 5);
t.check(await waitFor(() => missed.every(hookHas), 15000),
  'after the restart every checkpoint made while the receiver was down reaches it', `missed ${missed} got ${sizesOf(received)}`);
t.check(received.filter((r) => r.size > 5).every((r) => openCheckpoint(r.note)?.size === r.size),
  'and each verifies');

// --- evidence bundles -----------------------------------------------------
t.check(await waitFor(() => hookHas(9) && fileHas(9), 5000), 'the checkpoint of all nine events is witnessed');
const bundle = path.join(dir, 'bundle.jsonl');
const ex = run(['audit', 'export', '--db', db, '--out', bundle]);
t.check(ex.status === 0, 'cdevctl audit export writes a bundle', ex.stderr);
const lines = fs.readFileSync(bundle, 'utf8').split('\n').filter(Boolean);
const tree = lines.map((l) => JSON.parse(l)).find((o) => o.treeCheckpoint)?.treeCheckpoint;
t.check(tree && openCheckpoint(tree.checkpoint)?.size === 9, 'the bundle carries the latest signed checkpoint', JSON.stringify(tree));
t.check(lines.filter((l) => l.startsWith('{"inclusion":')).length === 9, 'and an inclusion proof per event');
const ok = run(['audit', 'verify-bundle', '--pubkey', `${keyFile}.pub`, bundle]);
t.check(ok.status === 0 && /9 events proven/.test(ok.stdout), 'verify-bundle passes with the public key file', ok.stdout + ok.stderr);
const okString = run(['audit', 'verify-bundle', '--pubkey', vkey, bundle]);
t.check(okString.status === 0, 'and with the verifier key string', okString.stdout + okString.stderr);

const edited = path.join(dir, 'edited.jsonl');
const at = lines.findIndex((l) => l.includes('"job-4"') && l.startsWith('{"seq":'));
const seq = JSON.parse(lines[at]).seq;
fs.writeFileSync(edited, lines.map((l, i) => (i === at ? l.replace('"job-4"', '"job-x"') : l)).join('\n') + '\n');
const bad = run(['audit', 'verify-bundle', '--pubkey', vkey, edited]);
t.check(bad.status === 1 && bad.stdout.includes(`seq ${seq}`), 'a bundle with an event edited fails, naming its seq',
  bad.stdout + bad.stderr);
// A forger who rewrites the chain too (no HMAC key to stop it): the chain
// alone now holds, the receipts do not.
function rowHash(prev, rec, event) {
  const h = crypto.createHash('sha256').update(Buffer.from(prev, 'hex'));
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigUInt64BE(BigInt(rec.seq));
  h.update(seqBytes);
  for (const v of [rec.id, rec.source, rec.type, rec.subject, rec.chainId, rec.artifactId, rec.timestamp,
    rec.receivedAt, rec.specVersion, rec.principal, rec.peer, event]) {
    const len = Buffer.alloc(4);
    const bytes = v === null ? null : Buffer.from(v);
    len.writeUInt32BE(bytes ? bytes.length : 0xffffffff);
    h.update(len);
    if (bytes) h.update(bytes);
  }
  return h.digest('hex');
}
let prev = null;
const forgedLines = lines.map((l, i) => {
  if (!l.startsWith('{"seq":')) return l;
  const line = i === at ? l.replaceAll('job-4', 'job-x') : l;
  const rec = JSON.parse(line);
  const event = line.slice(line.lastIndexOf(',"event":') + 9, -1);
  prev ??= rec.prevHash;
  const hash = rowHash(prev, rec, event);
  const out = line.replace(`"prevHash":"${rec.prevHash}"`, `"prevHash":"${prev}"`).replace(`"hash":"${rec.hash}"`, `"hash":"${hash}"`);
  prev = hash;
  return out;
});
const header = JSON.parse(forgedLines[0]);
forgedLines[0] = JSON.stringify({ ...header, headHash: prev });
const forged = path.join(dir, 'forged.jsonl');
fs.writeFileSync(forged, forgedLines.join('\n') + '\n');
const chainOnly = run(['audit', 'verify', '--bundle', forged]);
t.check(chainOnly.status === 0, 'a bundle with its chain rewritten passes the chain check alone', chainOnly.stdout + chainOnly.stderr);
const caught = run(['audit', 'verify-bundle', '--pubkey', vkey, forged]);
t.check(caught.status === 1 && caught.stdout.includes(`seq ${seq}`) && /not the one the signed log holds/.test(caught.stdout),
  'but not verify-bundle: the signed tree holds another event at that seq', caught.stdout + caught.stderr);

const stranger = path.join(dir, 'other.key');
run(['audit', 'keygen', '--name', 'ci.example/witness-test', '--out', stranger]);
const other = run(['audit', 'verify-bundle', '--pubkey', `${stranger}.pub`, bundle]);
t.check(other.status === 1 && /does not verify/.test(other.stdout), "another key's verify-bundle refuses the receipts",
  other.stdout + other.stderr);

t.check(await d.stop() === 0, 'the daemon exits 0');
await stopReceiver();
t.finish();
