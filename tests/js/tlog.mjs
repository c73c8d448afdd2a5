// An independent verifier of the daemon's transparency log, written from
// the specifications with Node's crypto only: RFC 9162 section 2.1 (leaf
// and node hashes, inclusion 2.1.3.2 and consistency 2.1.4.2
// verification), C2SP signed-note (Ed25519 verifier keys, signatures) and
// C2SP tlog-checkpoint (origin, size, root). Tests import it so that what
// they check never comes from the C code under test.
import crypto from 'node:crypto';

export const sha256 = (...parts) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
export const leafHash = (entry) => sha256(Buffer.from([0x00]), Buffer.from(entry));
export const nodeHash = (l, r) => sha256(Buffer.from([0x01]), l, r);
export const EMPTY_ROOT = sha256(Buffer.alloc(0));

const half = (n) => Math.floor(n / 2);

// RFC 9162 2.1.3.2: does @path prove leaf @hash at @index of @size leaves
// under @root?
export function verifyInclusion(hash, index, size, path, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = hash;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn); sn = half(sn);
  }
  return sn === 0 && r.equals(root);
}

// RFC 9162 2.1.4.2, with empty proofs from 0 and between equal sizes.
export function verifyConsistency(first, second, path, firstHash, secondHash) {
  if (first > second) return false;
  if (first === second) return path.length === 0 && firstHash.equals(secondHash);
  if (first === 0) return path.length === 0 && firstHash.equals(EMPTY_ROOT);
  if (path.length === 0) return false;
  if ((first & (first - 1)) === 0) path = [firstHash, ...path];
  let fn = first - 1, sn = second - 1;
  while (fn % 2 === 1) { fn = half(fn); sn = half(sn); }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn); sn = half(sn);
  }
  return fr.equals(firstHash) && sr.equals(secondHash) && sn === 0;
}

// Standard base64, canonical only (a hash written two ways is refused).
export function b64(s) {
  const b = Buffer.from(String(s), 'base64');
  if (b.toString('base64') !== s) throw new Error(`not canonical base64: ${s}`);
  return b;
}

// A signed-note verifier key "name+hexid+base64(0x01 || pub)".
export function parseVerifierKey(vkey) {
  const [name, id, ...rest] = vkey.trim().split('+');
  const raw = b64(rest.join('+'));
  if (raw[0] !== 1 || raw.length !== 33) throw new Error('not an Ed25519 verifier key');
  const key = crypto.createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') }, format: 'jwk' });
  return { name, id: parseInt(id, 16), key };
}

// Opens a signed checkpoint with @v: {origin, size, root}; throws when
// the note is malformed or carries no valid signature by @v.
export function openCheckpoint(note, v) {
  const DASH = '\u2014 ';
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new Error('malformed note');
  const text = note.slice(0, split + 1);
  let ok = false;
  for (const line of note.slice(split + 2, -1).split('\n')) {
    if (!line.startsWith(DASH)) throw new Error('malformed signature line');
    const [name, sig64] = line.slice(DASH.length).split(' ');
    const sig = b64(sig64);
    if (name !== v.name || sig.readUInt32BE(0) !== v.id) continue;
    if (!crypto.verify(null, Buffer.from(text), v.key, sig.subarray(4))) throw new Error('bad signature');
    ok = true;
  }
  if (!ok) throw new Error('no signature by the key');
  const [origin, size, root] = text.split('\n');
  if (!/^[1-9][0-9]*$|^0$/.test(size)) throw new Error('bad size line');
  return { origin, size: Number(size), root: b64(root) };
}
