// Signed notes (C2SP signed-note, Ed25519) held against an independent
// implementation written here with Node's crypto: the key strings of the
// real `cdevctl audit keygen` decode and their key IDs recompute; notes
// signed in C (tests/helpers/note_tool) verify in Node and are the very
// bytes Node signs (Ed25519 is deterministic); notes signed in Node open
// in C; tampered notes fail in both. Go's published vector
// (golang.org/x/mod/sumdb/note's tests) first checks the Node side.
//
//   node tests/js/note-crosscheck.mjs path/to/cdevctl path/to/note_tool
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { checker } from './daemon.mjs';

const t = checker();
const [cdevctl, noteTool] = process.argv.slice(2, 4);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-note-'));
const run = (bin, args, input = '') => {
  const r = spawnSync(bin, args, { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

// --- The independent implementation -----------------------------------
const DASH = '\u2014 ';
const b64 = (s) => {
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s) throw new Error(`not canonical base64: ${s}`);
  return b;
};
const keyId = (name, pub) =>
  crypto.createHash('sha256').update(Buffer.concat([Buffer.from(name + '\n'), Buffer.from([1]), pub]))
    .digest().readUInt32BE(0);
const hex8 = (n) => n.toString(16).padStart(8, '0');
const publicKeyOf = (raw) => crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
// The PKCS #8 wrapping of an Ed25519 seed (RFC 8410).
const privateKeyOf = (seed) => crypto.createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
const rawPublic = (key) => Buffer.from((key.type === 'public' ? key : crypto.createPublicKey(key)).export({ format: 'jwk' }).x, 'base64url');

function parseVerifierKey(vkey) {
  const [name, id, ...rest] = vkey.split('+');
  const raw = b64(rest.join('+'));
  if (raw[0] !== 1 || raw.length !== 33) throw new Error('not an Ed25519 verifier key');
  const pub = raw.subarray(1);
  return { name, id: parseInt(id, 16), idHex: id, pub, key: publicKeyOf(pub) };
}

function parseSignerKey(skey) {
  const [p, k, name, id, ...rest] = skey.trim().split('+');
  const raw = b64(rest.join('+'));
  if (p !== 'PRIVATE' || k !== 'KEY' || raw[0] !== 1 || raw.length !== 33) throw new Error('not a signer key');
  const key = privateKeyOf(raw.subarray(1));
  return { name, id: parseInt(id, 16), key, pub: rawPublic(key) };
}

function nodeSign(text, s) {
  const sig = crypto.sign(null, Buffer.from(text), s.key);
  const id = Buffer.alloc(4);
  id.writeUInt32BE(s.id);
  return `${text}\n${DASH}${s.name} ${Buffer.concat([id, sig]).toString('base64')}\n`;
}

// The text, and the names of the known keys whose signatures verify;
// throws on a malformed note or a known key's bad signature.
function nodeOpen(note, verifiers) {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new Error('malformed');
  const text = note.slice(0, split + 1), signed = [];
  for (const line of note.slice(split + 2, -1).split('\n')) {
    if (!line.startsWith(DASH)) throw new Error('malformed');
    const [name, sig64] = line.slice(DASH.length).split(' ');
    const sig = b64(sig64);
    const v = verifiers.find((x) => x.name === name && x.id === sig.readUInt32BE(0));
    if (!v) continue;
    if (!crypto.verify(null, Buffer.from(text), v.key, sig.subarray(4))) throw new Error(`bad signature by ${name}`);
    signed.push(name);
  }
  if (!signed.length) throw new Error('no known signature');
  return { text, signed };
}
// The note with one bit of its last signature flipped (the key ID kept).
function flipSignatureBit(note) {
  const at = note.lastIndexOf(' ') + 1;
  const sig = b64(note.slice(at, -1));
  sig[4 + 17] ^= 0x10;
  return note.slice(0, at) + sig.toString('base64') + '\n';
}
const nodeOpens = (note, vs) => { try { return nodeOpen(note, vs); } catch { return null; } };
const writeKey = (name, text, mode = 0o600) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text + '\n', { mode });
  fs.chmodSync(p, mode);
  return p;
};

// --- Go's published vector checks the Node side ------------------------
{
  const peter = parseSignerKey('PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz');
  const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
  const want = `${text}\n${DASH}PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;
  t.check(nodeSign(text, peter) === want, "Node's signer reproduces Go's published note");
  t.check(hex8(keyId('PeterNeumann', Buffer.concat([Buffer.from([1]), peter.pub]).subarray(1))) === 'c74f20a3',
    "Node's key ID of Go's published key is c74f20a3");
}

// --- cdevctl audit keygen ---------------------------------------------
const keyFile = path.join(dir, 'audit.key');
const gen = run(cdevctl, ['audit', 'keygen', '--name', 'ci.example/cdeventsd', '--out', keyFile]);
t.check(gen.status === 0, 'keygen exits 0', gen.stderr);
const vkeyText = gen.stdout.trim();
const vkey = parseVerifierKey(vkeyText);
t.check(vkey.name === 'ci.example/cdeventsd', 'the printed verifier key carries the name', vkeyText);
t.check(vkey.idHex === hex8(keyId(vkey.name, vkey.pub)), 'its key ID is SHA-256(name, \\n, 0x01, key)[:4], recomputed in Node', vkeyText);
t.check((fs.statSync(keyFile).mode & 0o777) === 0o600, 'the signer key file is mode 0600',
  (fs.statSync(keyFile).mode & 0o777).toString(8));
t.check(fs.readFileSync(keyFile + '.pub', 'utf8') === vkeyText + '\n', 'FILE.pub holds the printed verifier key');
const signer = parseSignerKey(fs.readFileSync(keyFile, 'utf8'));
t.check(signer.name === vkey.name && signer.id === vkey.id && signer.pub.equals(vkey.pub),
  "the signer key's seed gives the verifier key's public key in Node");
const before = fs.readFileSync(keyFile, 'utf8');
const again = run(cdevctl, ['audit', 'keygen', '--name', 'other', '--out', keyFile]);
t.check(again.status === 2 && /refusing to overwrite/.test(again.stderr), 'keygen refuses to overwrite a key', again.stderr);
t.check(fs.readFileSync(keyFile, 'utf8') === before, 'and the key is unchanged');
fs.renameSync(keyFile, keyFile + '.moved');
const pubLeft = run(cdevctl, ['audit', 'keygen', '--name', 'other', '--out', keyFile]);
t.check(pubLeft.status === 2 && !fs.existsSync(keyFile), 'an existing FILE.pub is refused too, FILE not made', pubLeft.stderr);
fs.renameSync(keyFile + '.moved', keyFile);
const badName = run(cdevctl, ['audit', 'keygen', '--name', 'a+b', '--out', path.join(dir, 'x.key')]);
t.check(badName.status === 2 && /--name/.test(badName.stderr), "a name with '+' is refused", badName.stderr);

// --- C signs, Node verifies --------------------------------------------
const texts = [
  'ci.example/cdeventsd\n42\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
  'one line\n',
  'a text\n\nwith an empty line, UTF-8 \u00e9\u2014\u{1F600}, and a final newline\n',
];
for (const [i, text] of texts.entries()) {
  const c = run(noteTool, ['sign', keyFile], text);
  t.check(c.status === 0, `text ${i}: C signs`, c.stderr);
  t.check(c.stdout === nodeSign(text, signer), `text ${i}: C's note is the bytes Node signs`, c.stdout);
  const o = nodeOpens(c.stdout, [vkey]);
  t.check(o?.text === text && o.signed[0] === vkey.name, `text ${i}: Node opens C's note`);
  const tampered = c.stdout.replace(/^./u, (ch) => (ch === 'x' ? 'y' : 'x'));
  t.check(nodeOpens(tampered, [vkey]) === null, `text ${i}: Node refuses C's note with its text changed`);
  const back = run(noteTool, ['open', vkeyText], tampered);
  t.check(back.status === 1 && /does not verify/.test(back.stderr), `text ${i}: and so does C`, back.stderr);
}
const noNewline = run(noteTool, ['sign', keyFile], 'no final newline');
t.check(noNewline.status === 1 && /newline/.test(noNewline.stderr), 'C refuses to sign a text without a final newline', noNewline.stderr);
fs.chmodSync(keyFile, 0o644);
const open644 = run(noteTool, ['sign', keyFile], 'x\n');
t.check(open644.status === 1 && /chmod 600/.test(open644.stderr), 'a key file others can read is refused', open644.stderr);
fs.chmodSync(keyFile, 0o600);

// --- Node signs, C opens -----------------------------------------------
const pair = crypto.generateKeyPairSync('ed25519');
const nodePub = rawPublic(pair.publicKey);
const nodeName = 'node.example/witness';
const nodeKey = { name: nodeName, id: keyId(nodeName, nodePub), key: pair.privateKey };
const nodeVkey = `${nodeName}+${hex8(nodeKey.id)}+${Buffer.concat([Buffer.from([1]), nodePub]).toString('base64')}`;
for (const [i, text] of texts.entries()) {
  const note = nodeSign(text, nodeKey);
  const c = run(noteTool, ['open', nodeVkey], note);
  t.check(c.status === 0 && c.stdout === text && /signed by node.example\/witness/.test(c.stderr),
    `text ${i}: C opens Node's note`, c.stderr);
  const badSig = flipSignatureBit(note);
  const b = run(noteTool, ['open', nodeVkey], badSig);
  t.check(b.status === 1 && /does not verify/.test(b.stderr), `text ${i}: C refuses Node's note with a bit of its signature flipped`, b.stderr);
  t.check(nodeOpens(badSig, [{ ...parseVerifierKey(nodeVkey) }]) === null, `text ${i}: and so does Node`);
}
// A Node key as a signer key file: C signs with it, Node checks.
const seed = Buffer.from(pair.privateKey.export({ format: 'jwk' }).d, 'base64url');
const nodeSkeyFile = writeKey('node.key',
  `PRIVATE+KEY+${nodeName}+${hex8(nodeKey.id)}+${Buffer.concat([Buffer.from([1]), seed]).toString('base64')}`);
const cWithNodeKey = run(noteTool, ['sign', nodeSkeyFile], texts[0]);
t.check(cWithNodeKey.stdout === nodeSign(texts[0], nodeKey), "C signing with Node's key gives Node's bytes", cWithNodeKey.stderr);

// --- Cosigned: a witness's signature after the log's --------------------
{
  const logNote = run(noteTool, ['sign', keyFile], texts[0]).stdout;
  const witness = nodeSign(texts[0], nodeKey).split('\n\n').pop();
  const both = logNote + witness;
  const onlyLog = run(noteTool, ['open', vkeyText], both);
  t.check(onlyLog.status === 0 && onlyLog.stdout === texts[0], "C ignores the witness's signature when it does not know its key", onlyLog.stderr);
  const all = run(noteTool, ['open', vkeyText, nodeVkey], both);
  t.check(all.status === 0 && /signed by ci.example\/cdeventsd\nsigned by node.example\/witness/.test(all.stderr),
    'and verifies both when it knows both', all.stderr);
  t.check(nodeOpens(both, [vkey, parseVerifierKey(nodeVkey)])?.signed.length === 2, 'as Node does');
  const none = run(noteTool, ['open', nodeVkey], logNote);
  t.check(none.status === 1 && /no signature by a known key/.test(none.stderr), 'a note signed by unknown keys only is refused', none.stderr);
}

fs.rmSync(dir, { recursive: true });
t.finish();
