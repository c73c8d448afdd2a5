// The Merkle tree of sinks/audit/tlog against a second implementation of
// RFC 9162 section 2.1, written here from the RFC's text with Node's
// crypto: MTH (2.1.1), PATH (2.1.3.1), PROOF/SUBPROOF (2.1.4.1) and the two
// verification algorithms (2.1.3.2, 2.1.4.2). Over random logs (the seed is
// printed; TLOG_SEED=n replays one) it compares every tree head, and on
// (index, size) and (old, new) pairs (every pair up to 64 leaves, a sample
// above, powers of two +-1 and 2000 among them) checks that both sides
// make the same proof, that C's proofs verify in JS and JS's in C, and
// that altered proofs and claims fail in both.
//
//   node tests/js/tlog-crosscheck.mjs path/to/tlog_tool
import { spawnSync } from 'node:child_process';
import { sha256, leafHash, nodeHash, verifyInclusion, verifyConsistency } from './tlog.mjs';

const tool = process.argv[2];
// Fixed, so that a run of make test is the same every time; TLOG_SEED=n
// tries others.
const seed = Number(process.env.TLOG_SEED ?? 9162);
console.log(`seed ${seed} (TLOG_SEED=${seed} to replay)`);

// splitmix32: small, seedable, good enough to pick bytes and pairs.
let state = seed >>> 0;
function rand32() {
  state = (state + 0x9e3779b9) >>> 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}
const below = (n) => rand32() % n;
const randomBytes = (n) => Buffer.from(Array.from({ length: n }, () => below(256)));

// ---- RFC 9162 2.1, from the text ----
// The hashes and the two verification algorithms (2.1.3.2, 2.1.4.2) are
// tests/js/tlog.mjs's, which the integration tests' verifier shares.
// "the largest power of two smaller than n" (n > 1)
const largestPow2Below = (n) => { let k = 1; while (k * 2 < n) k *= 2; return k; };

class Tree {
  constructor(entries) {
    this.leaves = entries.map(leafHash);
    this.memo = new Map();
  }
  // MTH(D[b:e]); memoised because every prefix's head is asked for.
  mth(b, e) {
    const n = e - b;
    if (n === 0) return sha256(Buffer.alloc(0));
    if (n === 1) return this.leaves[b];
    const key = `${b},${e}`;
    let h = this.memo.get(key);
    if (!h) {
      const k = largestPow2Below(n);
      h = nodeHash(this.mth(b, b + k), this.mth(b + k, e));
      this.memo.set(key, h);
    }
    return h;
  }
  // PATH(m, D[b:e]), m relative to b.
  path(m, b, e) {
    const n = e - b;
    if (n === 1) return [];
    const k = largestPow2Below(n);
    if (m < k) return [...this.path(m, b, b + k), this.mth(b + k, e)];
    return [...this.path(m - k, b + k, e), this.mth(b, b + k)];
  }
  // SUBPROOF(m, D[b:e], flag), m relative to b.
  subproof(m, b, e, flag) {
    const n = e - b;
    if (m === n) return flag ? [] : [this.mth(b, e)];
    const k = largestPow2Below(n);
    if (m <= k) return [...this.subproof(m, b, b + k, flag), this.mth(b + k, e)];
    return [...this.subproof(m - k, b + k, e, false), this.mth(b, b + k)];
  }
  inclusion(index, size) { return this.path(index, 0, size); }
  // PROOF(m, D[n]); the RFC defines 0 < m < n, the C side answers empty
  // proofs from 0 and between equal sizes, and so do we.
  consistency(m, n) { return m === 0 || m === n ? [] : this.subproof(m, 0, n, true); }
}

// ---- the C side ----
function runTool(lines) {
  const r = spawnSync(tool, [], { input: lines.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`tlog_tool: exit ${r.status}: ${r.stderr}`);
  const out = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  if (out.length !== lines.length) throw new Error(`tlog_tool answered ${out.length} of ${lines.length} lines`);
  return out;
}
const hex = (b) => b.toString('hex');
const unhex = (s) => Buffer.from(s, 'hex');

const counts = { logs: 0, roots: 0, inclusion: 0, consistency: 0, altered: 0 };
let failures = 0;
function fail(msg) {
  failures++;
  if (failures <= 20) console.log(`FAIL ${msg}`);
}

// The sizes to sample for a log of @n leaves: all up to 64, the powers of
// two +-1, the last, some random ones.
function sampleSizes(n) {
  const s = new Set();
  for (let i = 1; i <= Math.min(n, 64); i++) s.add(i);
  for (let p = 64; p <= 2 * n; p *= 2) for (const d of [-1, 0, 1]) if (p + d >= 1 && p + d <= n) s.add(p + d);
  s.add(n);
  for (let i = 0; i < 12; i++) s.add(1 + below(n));
  return [...s].sort((a, b) => a - b);
}

// The points below @n to pair with it: all when small, else a sample.
function samplePoints(n, from) {
  if (n <= 64) return Array.from({ length: n - from }, (_, i) => i + from);
  const s = new Set([from, from + 1, n - 2, n - 1, Math.floor(n / 2)]);
  for (let p = 1; p < n; p *= 2) for (const d of [-1, 0, 1]) if (p + d >= from && p + d < n) s.add(p + d);
  for (let i = 0; i < 8; i++) s.add(from + below(n - from));
  return [...s].sort((a, b) => a - b);
}

// Altered claims that must fail: [description, args...] in the tool's
// argument order, for inclusion (leaf index size root proof).
function alterInclusion(t, n, index, size, proof) {
  const leaf = t.leaves[index], root = t.mth(0, size), out = [];
  for (let i = 0; i < proof.length; i++) {
    const bad = proof.map((h) => Buffer.from(h));
    bad[i][below(32)] ^= 1 << below(8);
    out.push([`bit flipped in hash ${i}`, leaf, index, size, root, bad]);
  }
  if (proof.length) {
    out.push(['last hash dropped', leaf, index, size, root, proof.slice(0, -1)]);
    out.push(['first hash dropped', leaf, index, size, root, proof.slice(1)]);
  }
  out.push(['hash added', leaf, index, size, root, [...proof, randomBytes(32)]]);
  out.push(['hash added in front', leaf, index, size, root, [t.leaves[index], ...proof]]);
  // (a log may hold the same entry twice: then the claim is true)
  if (index + 1 < size && !t.leaves[index + 1].equals(leaf)) out.push(['next index', leaf, index + 1, size, root, proof]);
  if (index > 0 && !t.leaves[index - 1].equals(leaf)) out.push(['previous index', leaf, index - 1, size, root, proof]);
  if (size < n) out.push(['next size and its root', leaf, index, size + 1, t.mth(0, size + 1), proof]);
  if (size - 1 > index) out.push(['previous size and its root', leaf, index, size - 1, t.mth(0, size - 1), proof]);
  out.push(['another leaf', leafHash(randomBytes(33)), index, size, root, proof]);
  return out;
}

// For consistency (old new old_root root proof); claims that are true
// whatever the proof (from 0, or between equal sizes with an empty one)
// are not alterations.
function alterConsistency(t, n, m, size, proof) {
  const out = [], r = (s) => t.mth(0, s);
  const add = (desc, a, b, ra, rb, p) => {
    if (p.length === 0 && (a === 0 || a === b)) return;
    out.push([desc, a, b, ra, rb, p]);
  };
  for (let i = 0; i < proof.length; i++) {
    const bad = proof.map((h) => Buffer.from(h));
    bad[i][below(32)] ^= 1 << below(8);
    add(`bit flipped in hash ${i}`, m, size, r(m), r(size), bad);
  }
  if (proof.length) {
    add('last hash dropped', m, size, r(m), r(size), proof.slice(0, -1));
    add('first hash dropped', m, size, r(m), r(size), proof.slice(1));
  }
  add('hash added', m, size, r(m), r(size), [...proof, randomBytes(32)]);
  if (m + 1 <= size) add('next old size and its root', m + 1, size, r(m + 1), r(size), proof);
  if (m > 0) add('previous old size and its root', m - 1, size, r(m - 1), r(size), proof);
  if (m > 0 && size < n) add('next new size and its root', m, size + 1, r(m), r(size + 1), proof);
  if (m > 0 && size - 1 >= m) add('previous new size and its root', m, size - 1, r(m), r(size - 1), proof);
  if (m > 0 && m < size) add('a forked new root', m, size, r(m), nodeHash(r(size), r(m)), proof);
  if (m > 0) add('a forked old root', m, size, leafHash(randomBytes(4)), r(size), proof);
  return out;
}

function checkLog(entries) {
  const n = entries.length, t = new Tree(entries);
  counts.logs++;
  // Phase 1: the log, every head, the proofs.
  const lines = entries.map((e) => (e.length ? `leaf ${hex(e)}` : 'leaf'));
  for (let s = 0; s <= n; s++) lines.push(`root ${s}`, `load ${s}`);
  const incPairs = [], conPairs = [];
  for (const size of sampleSizes(n)) {
    for (const i of samplePoints(size, 0)) incPairs.push([i, size]);
    for (const m of [...samplePoints(size, 0), size]) conPairs.push([m, size]);
  }
  for (const [i, s] of incPairs) lines.push(`inclusion ${i} ${s}`);
  for (const [m, s] of conPairs) lines.push(`consistency ${m} ${s}`);
  const out = runTool(lines);
  let k = 0;
  for (let i = 0; i < n; i++, k++) {
    if (out[k].leaf !== hex(t.leaves[i])) fail(`leaf hash ${i}: C ${out[k].leaf}`);
    if (out[k].root !== hex(t.mth(0, i + 1))) fail(`frontier root ${i + 1}: C ${out[k].root}`);
  }
  for (let s = 0; s <= n; s++, k += 2) {
    const want = hex(t.mth(0, s));
    if (out[k].root !== want || out[k + 1].root !== want) fail(`root ${s}: C ${out[k].root} / ${out[k + 1].root}, JS ${want}`);
    counts.roots++;
  }
  const verifyLines = [], expect = [];
  const checkProof = (kind, a, s, mine, theirs, verify) => {
    if (!theirs.proof) return fail(`${kind} ${a} ${s}: C answered ${JSON.stringify(theirs)}`);
    const cProof = theirs.proof.map(unhex);
    if (theirs.proof.join() !== mine.map(hex).join()) fail(`${kind} ${a} ${s}: C and JS proofs differ`);
    if (!verify(cProof)) fail(`${kind} ${a} ${s}: C's proof does not verify in JS`);
  };
  for (const [i, s] of incPairs) {
    const mine = t.inclusion(i, s);
    checkProof('inclusion', i, s, mine, out[k++], (p) => verifyInclusion(t.leaves[i], i, s, p, t.mth(0, s)));
    verifyLines.push(['inclusion', t.leaves[i], i, s, t.mth(0, s), mine]);
    expect.push([`JS inclusion proof ${i} ${s}`, 0]);
    for (const alt of alterInclusion(t, n, i, s, mine)) {
      const [desc, ...args] = alt, [h, a, b, root, p] = args;
      if (verifyInclusion(h, a, b, p, root)) fail(`inclusion ${i} ${s}, ${desc}: verifies in JS`);
      verifyLines.push(['inclusion', ...args]);
      expect.push([`inclusion ${i} ${s}, ${desc}`, -74]);
    }
    counts.inclusion++;
  }
  for (const [m, s] of conPairs) {
    const mine = t.consistency(m, s);
    checkProof('consistency', m, s, mine, out[k++], (p) => verifyConsistency(m, s, p, t.mth(0, m), t.mth(0, s)));
    verifyLines.push(['consistency', t.mth(0, m), m, s, t.mth(0, s), mine]);
    expect.push([`JS consistency proof ${m} ${s}`, 0]);
    for (const alt of alterConsistency(t, n, m, s, mine)) {
      const [desc, a, b, ra, rb, p] = alt;
      if (verifyConsistency(a, b, p, ra, rb)) fail(`consistency ${m} ${s}, ${desc}: verifies in JS`);
      verifyLines.push(['consistency', ra, a, b, rb, p]);
      expect.push([`consistency ${m} ${s}, ${desc}`, -74]);
    }
    counts.consistency++;
  }
  // Phase 2: C verifies JS's proofs and every alteration.
  // (h is the leaf hash or the old root)
  const cmds = verifyLines.map(([kind, h, a, b, root, proof]) => {
    const tail = proof.map(hex).join(' ');
    if (kind === 'inclusion') return `verify-inclusion ${hex(h)} ${a} ${b} ${hex(root)} ${tail}`;
    return `verify-consistency ${a} ${b} ${hex(h)} ${hex(root)} ${tail}`;
  });
  const verdicts = runTool(cmds);
  verdicts.forEach((v, i) => {
    const [desc, want] = expect[i];
    if (v.rc !== want) fail(`${desc}: C says ${v.rc}, expected ${want}`);
    if (want !== 0) counts.altered++;
  });
}

const started = Date.now();
checkLog(Array.from({ length: 2000 }, () => randomBytes(below(5) === 0 ? 0 : below(80))));
for (let i = 0; i < 3; i++) checkLog(Array.from({ length: 1 + below(300) }, () => randomBytes(below(40))));
console.log(`${counts.logs} logs; ${counts.roots} tree heads; ${counts.inclusion} inclusion and ` +
  `${counts.consistency} consistency proofs made and verified both ways; ` +
  `${counts.altered} altered proofs failing in both (${((Date.now() - started) / 1000).toFixed(1)} s)`);
if (failures) console.log(`${failures} failures (seed ${seed})`);
process.exit(failures ? 1 : 0);
