// Signed checkpoints checked in the browser (C2SP signed-note, Ed25519):
// against a verifier key the reader gives the page, never one the daemon
// serves, since a log that could hand out its own key could sign
// whatever it liked. The key is kept in this browser (local storage): it
// is public, and the point is that it stays the same from one visit to
// the next.
const KEY = 'cdeventsd.verifierKey';

const utf8 = (s) => new TextEncoder().encode(s);
export const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

// SHA-256 of the byte arrays @parts, one after the other.
export async function sha256(...parts) {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}

// "name+1a2b3c4d+base64(0x01 || public key)" -> {name, id, pub, text},
// or null when it is not one (its key ID must be the key's own).
export async function parseVerifierKey(text) {
  /* The name holds no '+'; the base64 may. */
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(String(text ?? '').trim());
  if (!m) return null;
  const parts = m.slice(1);
  let raw;
  try { raw = unb64(parts[2]); } catch { return null; }
  if (raw.length !== 33 || raw[0] !== 1) return null;
  const id = (await sha256(utf8(`${parts[0]}\n`), raw)).slice(0, 4);
  if (hex(id) !== parts[1]) return null;
  return { name: parts[0], id, pub: raw.slice(1), text: parts.join('+') };
}

export function pinnedKey() {
  return localStorage.getItem(KEY);
}

export function pinKey(text) {
  if (text) localStorage.setItem(KEY, text);
  else localStorage.removeItem(KEY);
}

// What @note's signature by @key says: 'verified', 'unsigned' (no
// signature by that key: other keys' are ignored, as the spec says),
// 'bad' (one by that key that does not verify) or 'malformed'.
export async function checkNote(note, key) {
  const at = String(note).lastIndexOf('\n\n');
  if (at < 0) return 'malformed';
  const text = note.slice(0, at + 1);
  for (const line of note.slice(at + 2).split('\n')) {
    if (!line) continue;
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+=*)$/.exec(line);
    if (!m) return 'malformed';
    let sig;
    try { sig = unb64(m[2]); } catch { return 'malformed'; }
    if (m[1] !== key.name || sig.length !== 68 || hex(sig.slice(0, 4)) !== hex(key.id)) continue;
    const k = await crypto.subtle.importKey('raw', key.pub, { name: 'Ed25519' }, false, ['verify']);
    return (await crypto.subtle.verify({ name: 'Ed25519' }, k, sig.slice(4), utf8(text))) ? 'verified' : 'bad';
  }
  return 'unsigned';
}
