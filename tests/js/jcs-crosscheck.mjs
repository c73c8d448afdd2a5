// RFC 8785 canonical JSON: schemas/base/jcs.c (through tests/helpers/jcs_tool)
// against the npm package canonicalize, an independent implementation whose
// numbers are V8's own Number::toString, on random values: nested objects
// and arrays, names and strings with control, astral and U+E000..U+FFFF
// characters, doubles of every kind. The seed is printed; JCS_SEED=N
// replays a run.
//
//   node tests/js/jcs-crosscheck.mjs path/to/jcs_tool
import { spawnSync } from 'node:child_process';
import canonicalize from 'canonicalize';

const tool = process.argv[2];
const seed = Number(process.env.JCS_SEED ?? 8785) >>> 0;

// mulberry32: small, seedable, good enough to pick test values.
let state = seed;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(random() * n);
const pick = (a) => a[int(a.length)];

const bits = new DataView(new ArrayBuffer(8));
function doubleFromBits() {
  for (;;) {
    bits.setUint32(0, int(2 ** 32));
    bits.setUint32(4, int(2 ** 32));
    const d = bits.getFloat64(0);
    if (Number.isFinite(d)) return d;
  }
}

const numberKinds = [
  doubleFromBits,
  () => int(1000) - 500,
  () => (int(2 ** 31) * 2 ** 22 + int(2 ** 22)) * (random() < 0.5 ? -1 : 1), // up to 2^53
  () => int(1e6) * 10 ** int(20), // integers around 1e21
  () => (random() - 0.5) * 10 ** (int(60) - 30),
  () => int(1e6) / 10 ** int(12),
  () => 2 ** (int(2098) - 1074), // doubles above are twice as far apart
  () => -(2 ** (int(2098) - 1074)),
  () => (int(2 ** 20) + 1) * 2 ** -1074, // subnormal
  () => pick([0, -0, 1e21, 1e-7, 1e-6, 5e-324, Number.MAX_VALUE, -Number.MIN_VALUE, 0.1 + 0.2]),
];
const randomNumber = () => pick(numberKinds)();

const charKinds = [
  () => 0x20 + int(0x5f), // printable ASCII
  () => 1 + int(0x1f), // control (not U+0000: cJSON ends a string there)
  () => pick([0x22, 0x5c, 0x2f, 0x7f, 0x2028, 0x2029, 0xfeff]),
  () => 0x80 + int(0x780),
  () => 0x800 + int(0xd800 - 0x800),
  () => 0xe000 + int(0x2000), // sorts after the surrogates of astral characters
  () => 0x10000 + int(0x100000), // astral
];
function randomString(max, alphabet) {
  let s = '';
  for (let n = int(max + 1); n > 0; n--) {
    s += alphabet ? pick(alphabet) : String.fromCodePoint(pick(charKinds)());
  }
  return s;
}
// Names from a few characters share prefixes, so the order is decided
// deep inside them, often between an astral and a U+E000..U+FFFF one.
const nameAlphabet = ['a', 'b', 'A', '1', '\n', '\u00e9', '\ue000', '\uffff', '\ud83d\ude00', '\u{10000}',
  '\u{10ffff}', '\ud7ff'];

function randomValue(depth) {
  const r = random();
  if (depth > 5 || r < 0.35) {
    const k = int(5);
    if (k === 0) return pick([null, true, false]);
    if (k <= 2) return randomNumber();
    return randomString(12);
  }
  if (r < 0.6) {
    const a = [];
    for (let n = int(6); n > 0; n--) a.push(randomValue(depth + 1));
    return a;
  }
  const o = {};
  for (let n = int(7); n > 0; n--) {
    const name = random() < 0.6 ? randomString(4, nameAlphabet) : randomString(8);
    if (name !== '__proto__') o[name] = randomValue(depth + 1);
  }
  return o;
}

// Each case is a line for the tool and what canonicalize makes of it
// (null: the tool must refuse the line).
const cases = [];
const documents = 4000, numbers = 30000;
for (let i = 0; i < documents; i++) {
  const v = randomValue(0);
  cases.push([JSON.stringify(v), canonicalize(v)]);
}
for (let i = 0; i < numbers; i++) {
  const v = randomNumber();
  // Also as the exponent form and the shortest form with the other
  // exponent letter: what is read is the double, not the text.
  const text = pick([String(v), v.toExponential(), JSON.stringify(v).toUpperCase()]);
  cases.push([Object.is(v, -0) ? '-0' : text, canonicalize(v)]);
}
// Every power of two and its three neighbours on each side: where the
// doubles below are twice as dense as those above, the nearest short
// decimal is not always the one that reads back.
let neighbours = 0;
for (let e = -1074; e <= 1023; e++) {
  bits.setFloat64(0, 2 ** e);
  const b = bits.getBigUint64(0);
  for (let d = -3n; d <= 3n; d++) {
    bits.setBigUint64(0, b + d);
    const v = bits.getFloat64(0);
    if (Number.isFinite(v) && v > 0) {
      cases.push([String(v), canonicalize(v)]);
      neighbours++;
    }
  }
}
for (const text of ['-0', '-0.0', '1E30', '4.50', '2e-3', '0.000000000000000000000000001', '333333333.33333329',
  '1e+21', '100000000000000000000', '9007199254740993']) {
  cases.push([text, canonicalize(JSON.parse(text))]);
}
cases.push(['{"a":1,"a":2}', null]); // duplicate names: JCS has no order for them
cases.push(['['.repeat(129) + ']'.repeat(129), null]); // deeper than 128
cases.push(['['.repeat(128) + ']'.repeat(128), '['.repeat(128) + ']'.repeat(128)]);

const r = spawnSync(tool, [], {
  input: cases.map(([line]) => line).join('\n') + '\n',
  encoding: 'utf8',
  maxBuffer: 1 << 28,
});
if (r.status !== 0) {
  console.log(`jcs_tool: exit ${r.status}: ${r.stderr}`);
  process.exit(1);
}
const out = r.stdout.split('\n');
let passed = 0, failed = 0;
cases.forEach(([line, expected], i) => {
  const got = out[i];
  const ok = expected === null ? got.startsWith('error: ') : got === expected;
  if (ok) {
    passed++;
    return;
  }
  if (++failed <= 10) {
    // Long documents: show where the two part.
    let at = 0;
    while (expected !== null && at < got.length && got[at] === expected[at]) at++;
    const from = Math.max(0, at - 40);
    const cut = (s) => (s === null ? '(refused)' : JSON.stringify(s.slice(from, at + 40)));
    const input = JSON.stringify(line.length > 200 ? line.slice(0, 200) + '...' : line);
    console.log(`FAIL case ${i} at character ${at}\n  input    ${input}\n  expected ${cut(expected)}\n` +
      `  got      ${cut(got)}`);
  }
});
console.log(`jcs-crosscheck: seed ${seed} (JCS_SEED=${seed} replays it); compared ${cases.length} values ` +
  `(${documents} random documents, ${numbers} random numbers, ${neighbours} powers of two and neighbours, ` +
  `${cases.length - documents - numbers - neighbours} fixed)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
