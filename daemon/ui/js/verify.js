// Checks, in the browser, that what a page shows is what the log holds:
// for each record, its inclusion proof (GET /v1/log/proof/inclusion)
// must carry the record's own canonical JSON (RFC 8785) as its entry,
// that entry must hash to the leaf (RFC 9162: SHA-256 of 0x00 and the
// entry), and the proof must lead from the leaf to the tree's root, the
// same root for every record, and the signed checkpoint's root when the
// log signs them. The checkpoint's signature is checked too when the
// reader has given the page the log's verifier key (note.js).
import { get } from './api.js';
import { checkNote, sha256, unb64 } from './note.js';

// RFC 8785 for what the log holds: keys sorted by UTF-16 code units,
// strings and numbers as JSON.stringify writes them.
export function canon(v) {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

const b64 = (bytes) => btoa(String.fromCharCode(...bytes));

// RFC 9162 section 2.1.3.2: the root a leaf's inclusion proof leads to,
// or null when the proof does not fit the index and the tree size.
export async function rootFromProof(index, size, leaf, proof) {
  if (index >= size) return null;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(Uint8Array.of(1), p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await sha256(Uint8Array.of(1), r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

// "origin\nsize\nroot\n\n— signature..." -> {origin, size, root}
function parseCheckpoint(text) {
  const lines = String(text).split('\n');
  return { origin: lines[0], size: Number(lines[1]), root: lines[2] };
}

// One record's proof in the tree of @size leaves (null: the size the log
// proves in by default, its latest signed checkpoint's or the whole tree).
async function checkOne(rec, size) {
  let proof;
  try {
    proof = await get(`/v1/log/proof/inclusion?seq=${rec.seq}${size === null ? '' : `&size=${size}`}`);
  } catch (e) {
    if (e.status !== 409) throw e;
    /* 409: not in that tree yet (a newer event than the checkpoint), or
     * the row no longer hashes to its leaf, evidence the log itself gives. */
    if (e.body?.error === 'no proof in this tree') return { seq: rec.seq, pending: true };
    return { seq: rec.seq, error: e.body?.details?.[0]?.reason ?? e.body?.error ?? 'the log refuses its proof' };
  }
  const entry = canon({ event: rec.event, peer: rec.peer, principal: rec.principal,
    receivedAt: rec.receivedAt, seq: rec.seq });
  if (proof.entry !== entry) return { seq: rec.seq, error: 'the record shown is not the entry the log hashed' };
  const leaf = await sha256(Uint8Array.of(0), new TextEncoder().encode(entry));
  if (b64(leaf) !== proof.leafHash) return { seq: rec.seq, error: 'its entry does not hash to its leaf' };
  const root = await rootFromProof(proof.leafIndex, proof.treeSize, leaf, proof.inclusionProof.map(unb64));
  if (!root) return { seq: rec.seq, error: 'its inclusion proof does not fit the tree' };
  return { seq: rec.seq, size: proof.treeSize, root: b64(root), checkpoint: proof.checkpoint ?? null };
}

// What the checkpoint's signature says, as {ok, text} to end the verdict
// with, against @key (parseVerifierKey's; null: none given).
async function signatureVerdict(note, origin, key) {
  const by = key ? `${key.name}+${key.text.split('+')[1]}` : '';
  if (!key) {
    return { ok: true, text: `checkpoint ${origin} signed (its signature is not checked here: give the log's ` +
      'verifier key below to check it in this browser)' };
  }
  const said = await checkNote(note, key);
  if (said === 'verified') return { ok: true, text: `checkpoint ${origin} signed, its signature verified with the key ${by}` };
  return { ok: false, text: said === 'unsigned' ? `checkpoint ${origin} carries no signature by the key ${by}`
    : `the signature of checkpoint ${origin} by ${by} does not verify${said === 'malformed' ? ' (a malformed note)' : ''}` };
}

// {ok, text, bad}: one sentence a person reads, and the records that fail
// ({seq, error}). Every proof is asked in one tree, the size the first
// record's proof comes in, so that all must lead to one root. With @key
// (the log's verifier key the reader gave) the checkpoint's signature
// must verify, and a log that signs none does not verify.
export async function verifyRecords(recs, key = null) {
  const sorted = [...recs].sort((a, b) => a.seq - b.seq);
  const first = await checkOne(sorted[0], null);
  const size = first.size ?? null;
  const results = [first];
  for (let i = 1; i < sorted.length; i += 8) {
    results.push(...await Promise.all(sorted.slice(i, i + 8).map((r) => checkOne(r, size))));
  }
  const bad = results.filter((r) => r.error);
  if (bad.length) {
    return { ok: false, bad, text: `Does not verify: ${bad.map((b) => `seq ${b.seq}: ${b.error}`).join('; ')}.` };
  }
  const proven = results.filter((r) => !r.pending);
  const pending = results.length - proven.length;
  const later = pending ? ` The newest ${pending} are not in a signed checkpoint yet (one comes within ` +
    'audit.tree_checkpoint_interval): reload to check them.' : '';
  if (!proven.length) return { ok: true, text: `Nothing to check yet.${later}` };
  if (new Set(proven.map((r) => r.root)).size !== 1) {
    return { ok: false, text: 'Does not verify: the proofs lead to different roots of one tree.' };
  }
  const { root, checkpoint } = proven[0];
  const all = pending ? `${proven.length} of ${results.length}` : `all ${proven.length}`;
  if (checkpoint) {
    const cp = parseCheckpoint(checkpoint);
    if (cp.size !== size || cp.root !== root) {
      return { ok: false, text: `Does not verify: the proofs' root is not the root of checkpoint ${cp.size}.` };
    }
    const sig = await signatureVerdict(checkpoint, cp.origin, key);
    if (!sig.ok) return { ok: false, text: `Does not verify: ${sig.text}.` };
    return { ok: true, text: `Verified: ${all} events are in the log's tree of ${size} leaves, ` +
      `whose root ${root.slice(0, 12)}… is the one ${sig.text}.${later}` };
  }
  if (key) {
    return { ok: false, text: `Does not verify against the key ${key.name}: the log gives no signed checkpoint ` +
      `for its tree of ${size} leaves.` };
  }
  return { ok: true, text: `Verified: ${all} events are in the log's tree of ${size} leaves ` +
    `(root ${root.slice(0, 12)}…, the same from every proof). The log signs no checkpoints: set ` +
    `audit.signing_key_file to have a root others can hold it to.${later}` };
}
