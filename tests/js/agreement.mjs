// Agreement with the official schemas: every conformance example, and a
// set of mutations of each, is judged by cdevctl and by ajv; the verdicts
// must agree on every case.
//
// Mutations, at every place of every example: drop the member, give it a
// value of each other JSON type, an empty string, an unknown property in
// each object, a value outside each enum, malformed timestamps and URIs
// in every string, and a corpus of tricky date-times and URIs in the
// fields that carry formats. The custom event example of each release that
// has one (custom/schema.json) gets the same mutations, and custom type
// names and subject types around the official patterns.
//
//   node tests/js/agreement.mjs path/to/cdevctl
import { oracle, versions, olderVersions, conformanceExamples, schemaExamples, customExample, cdevctlVerdicts } from './oracle.mjs';

const cdevctl = process.argv[2];
if (!cdevctl) {
  console.error('usage: agreement.mjs CDEVCTL');
  process.exit(2);
}

const clone = (x) => structuredClone(x);

// Every place in a document: [path segments, value].
function places(node, at = []) {
  const out = [];
  if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      const p = [...at, Array.isArray(node) ? Number(k) : k];
      out.push([p, v]);
      out.push(...places(v, p));
    }
  }
  return out;
}

function setAt(doc, p, value) {
  const d = clone(doc);
  let o = d;
  for (const k of p.slice(0, -1)) o = o[k];
  const last = p[p.length - 1];
  if (value === undefined) {
    if (Array.isArray(o)) o.splice(last, 1);
    else delete o[last];
  } else {
    o[last] = value;
  }
  return d;
}

const wrongValues = [42, 3.5, true, null, [], {}, ['x'], { a: 1 }, ''];
const badStrings = [
  'not-an-enum-value', 'yesterday', '2023-13-45T25:61:00Z', '2023-03-20T14:27:05',
  'not a uri', 'http://exa mple.com/', '%zz', '::', 'https:', '\\\\server\\share', '/é',
];
// Strings that test the edges of the formats, for fields that have one.
const formatCorpus = [
  '2023-03-20T14:27:05.315384Z', '2023-03-20t14:27:05z', '2023-03-20 14:27:05Z',
  '2023-03-20T14:27:05+0530', '2023-03-20T14:27:05+05', '2023-03-20T14:27:05+05:3',
  '2016-12-31T23:59:60Z', '2016-12-31T22:59:60-01:00', '2023-01-01T12:00:60Z',
  '2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '2023-01-01T24:00:00Z', '2023-01-01T12:00:00.Z',
  '2023-01-01T12:00:00+24:00', '2023-01-01T12:00:00.9999999999999999999Z', '20230101T120000Z',
  '2023-01-01\u00a012:00:00Z', '2023-01-01\t12:00:00Z',
  'https://example.com/x?y=1#z', 'https://user:pw@example.com:8080/a/b', 'https://[2001:db8::1]:443/',
  'https://[v7.fe80::a]/', 'https://[::ffff:192.168.0.1]/', 'https://[1:2:3:4:5:6:7:8:9]/',
  'https://[2001:db8::1/', 'https://192.168.0.256/', 'mailto:ops@example.com', 'urn:uuid:6e8bc430',
  'pkg:oci/myapp@sha256%3A0b31', 'file:///tmp/x', 'https://example.com:80a/', 'https://example.com/"q"',
  '/event/source/123', 'event/source', 'a:b', '//host/path', '//a@b@c', '?q=1', '#frag', '/x#a#b',
  '/a/"quoted"', '/with space', '/bad%2', '1http://example.com', 'http://[::1]', 'http://[::]/',
  'http://[1::2::3]/', 'http://h:/', 'http://h:99999/', 'x:', '::1', 'ab^cd', '/a|b', '/{x}',
];

// The version field selects the catalog. The official schemas accept any
// non-empty string there, but an event of an unknown version cannot be
// checked against anything, so cdeventsd refuses it ("unsupported spec
// version"). Those cases are counted apart and must all be refused.
const versionFields = new Set(['specversion', 'version']);
function unknownVersion(e) {
  const ctx = e && typeof e === 'object' ? e.context : undefined;
  if (!ctx || typeof ctx !== 'object') return false;
  for (const f of versionFields) {
    const v = ctx[f];
    if (typeof v === 'string' && v !== '' && !/^0\.(5\.1|4\.1|3\.0|2\.0|1\.2)$/.test(v)) return true;
  }
  return false;
}

// Names on either side of the custom patterns: context.type must be
// dev.cdeventsx.<tool>-<subject>.<predicate>.<d>.<d>.<d>, and v0.4.1's
// subject.type <tool>-<subject>.
const customTypes = [
  'dev.cdeventsx.probes.ping.0.1.0', 'dev.cdeventsx.my-tool-x.created.0.1.0', 'dev.cdeventsx.MyTool9-Res.done.1.2.3',
  'dev.cdeventsx.mytool-resource.created.0.10.0', 'dev.cdeventsx.mytool-resource.created.0.1', 'dev.cdeventsx.mytool-res1.created.0.1.0',
  'dev.cdeventsx.mytool-resource.cre-ated.0.1.0', 'dev.cdeventsx.mytool-resource.created.0.1.0\n', 'dev.cdeventsx.-resource.created.0.1.0',
  'dev.cdeventsx.mytool-resource.created.0.1.0.0', 'dev.cdeventsxmytool-resource.created.0.1.0', 'dev.cdeventsx.mytool_x-r.created.0.1.0',
  'dev.cdeventsx.tél-r.created.0.1.0', 'dev.cdeventsx.', 'dev.cdevents.mytool-resource.created.0.1.0',
];
const subjectTypes = ['mytool-resource', 'mytool', 'my-tool-x', 'A9-b', '-b', 'a-', 'a-1', 'a-b\n', 'a_b-c', 'a-b c', 'é-b'];

function customMutations(event) {
  const out = [];
  for (const t of customTypes) out.push(setAt(event, ['context', 'type'], t));
  for (const t of subjectTypes) out.push(setAt(event, ['subject', 'type'], t));
  return out;
}

function mutations(event) {
  const out = [];
  for (const [p, v] of places(event)) {
    out.push(setAt(event, p, undefined));
    for (const w of wrongValues)
      if (JSON.stringify(w) !== JSON.stringify(v)) out.push(setAt(event, p, w));
    if (v && typeof v === 'object' && !Array.isArray(v))
      out.push(setAt(event, p, { ...v, zzUnknown: 'x' }));
    if (typeof v === 'string') {
      for (const s of badStrings) out.push(setAt(event, p, s));
      for (const s of formatCorpus) out.push(setAt(event, p, s));
    }
  }
  out.push({ ...clone(event), zzUnknown: 1 });
  out.push([event]);
  out.push('a string');
  return out;
}

let cases = 0, disagreements = 0, versionCases = 0;
const shown = [];
// Releases without examples (0.2.0, 0.1.2) start from events built from
// their schemas.
for (const version of [...versions, ...olderVersions]) {
  const check = oracle(version);
  const events = [];
  const seeds = versions.includes(version) ? conformanceExamples(version) : schemaExamples(version);
  for (const { event } of seeds) {
    events.push(event);
    events.push(...mutations(event));
  }
  const custom = customExample(version);
  if (custom) {
    events.push(custom.event);
    events.push(...mutations(custom.event), ...customMutations(custom.event));
  }
  const verdicts = cdevctlVerdicts(cdevctl, events);
  let vd = 0, valid = 0, vc = 0;
  events.forEach((e, i) => {
    const ours = verdicts[i].valid;
    let theirs = check(e).valid;
    if (unknownVersion(e)) {
      vc++;
      theirs = false; // refused by design, see versionFields above
    }
    if (theirs) valid++;
    if (ours !== theirs) {
      vd++;
      if (shown.length < 25)
        shown.push(`${version}: cdevctl says ${ours ? 'valid' : 'invalid'}, ajv ${theirs ? 'valid' : 'invalid'}: ` +
          JSON.stringify(e).slice(0, 400) + (ours ? '' : '\n    cdevctl: ' + JSON.stringify(verdicts[i].errors).slice(0, 300)));
    }
  });
  console.log(`${version}: ${events.length} cases (${valid} valid), ${vc} with an unknown spec version, ${vd} disagreements`);
  cases += events.length;
  versionCases += vc;
  disagreements += vd;
}
for (const s of shown) console.log('  ' + s);
console.log(`agreement: ${cases} cases, ${disagreements} disagreements ` +
  `(${versionCases} name an unknown spec version: ajv accepts any string there, cdevctl refuses them)`);
process.exit(disagreements ? 1 : 0);
