// What the daemon stores is what was sent, or the request is refused:
// numbers keep their value (or get 400 naming where they are), ids,
// sources and chain ids have a length limit (400 naming the field past
// it, nothing cut below it), and a /v1/events batch is all or nothing.
//
//   node tests/js/integration/strict-input.mjs path/to/cdeventsd
import fs from 'node:fs';
import { startDaemon, postJson, curl, checker } from '../daemon.mjs';

const t = checker();
const d = await startDaemon(process.argv[2]);
const hook = `${d.url}/v1/hooks/deploy`;
const good = { phase: 'deployed', subject: 'etl', environment: 'prod', artifactId: 'a' };
const ID_MAX = 512, SOURCE_MAX = 1024;

function expectError(r, status, pointer, reasonPart, name) {
  const details = r.json?.details ?? [];
  const hit = details.some((e) => e.pointer === pointer && e.reason.includes(reasonPart));
  t.check(r.status === status && typeof r.json?.error === 'string' && hit, name, `${r.status} ${r.body.slice(0, 300)}`);
}

const cdevent = (id, extra = {}) => ({
  context: { specversion: '0.5.1', id, source: '/ci', type: 'dev.cdevents.build.started.0.3.0',
    timestamp: '2025-01-01T00:00:00Z', ...extra.context },
  subject: { id: 'b-1', content: {}, ...extra.subject },
  ...(extra.customData ? { customData: extra.customData } : {}),
});
const stored = async (id) => {
  const res = await fetch(`${d.url}/v1/events/${encodeURIComponent(id)}`);
  return res.status === 200 ? (await res.json()).events[0].event : null;
};

// ---- Numbers: kept exactly, or refused naming the pointer --------------
// JSON.stringify cannot write these, so the bodies are spliced as text.
const hookWith = (literal) => JSON.stringify({ ...good, customData: { n: 'N' } }).replace('"N"', literal);
const lossy = [
  ['1e400', 'too large', 'a number past the largest double (1e400)'],
  ['1'.repeat(400), 'too large', 'a 400-digit integer'],
  ['123456789012345678901234567890', '2^53', 'an integer a double cannot hold exactly'],
  ['-9007199254740993', '2^53', 'an integer one past -2^53'],
  ['1e-400', 'rounds to 0', 'a number that underflows to 0 (1e-400)'],
];
for (const [literal, reason, name] of lossy) {
  expectError(postJson(hook, hookWith(literal)), 400, '/customData/n', reason, `hook: ${name} is refused`);
  const ev = JSON.stringify(cdevent(`num-${literal.length}`, { customData: { n: 'N' } })).replace('"N"', literal);
  expectError(postJson(`${d.url}/v1/events`, ev), 400, '/customData/n', reason, `/v1/events: ${name} is refused`);
}
const batchBody = JSON.stringify([
  { specversion: '1.0', id: 'nb-0', source: '/ci', type: 'dev.cdevents.build.started.0.3.0', data: cdevent('nb-0') },
  { specversion: '1.0', id: 'nb-1', source: '/ci', type: 'dev.cdevents.build.started.0.3.0',
    data: cdevent('nb-1', { customData: { n: 'N' } }) },
]).replace('"N"', '1e400');
expectError(curl(['-X', 'POST', '-H', 'Content-Type: application/cloudevents-batch+json', '--data-binary', batchBody,
  `${d.url}/v1/events`]), 400, '/1/data/customData/n', 'too large', 'in a batch, the pointer names the event');
expectError(postJson(`${d.url}/v1/sizing`, '{"sparkVersion": "3.5", "conf": {}, "x": 1e400}'), 400, '/x', 'too large',
  'a sizing request gets the same check');

// Every double that survives the round trip comes back with its value,
// including those cJSON's own printer would round (0.30000000000000004
// printed as 0.3, 2^53 as 9.00719925474099e+15).
const values = { a: 0.30000000000000004, b: 4.35, c: 9007199254740992, d: -9007199254740992, e: 1e22, f: -2.5e-7,
  g: 5e-324, h: 1.7976931348623157e308, i: 3.0000000000000004, j: 1, k: 0, l: 123456.789, m: 2147483648 };
const exact = postJson(`${d.url}/v1/events`, cdevent('floats', { customData: values }));
t.check(exact.status === 202, 'doubles are accepted', exact.body);
const back = (await stored('floats'))?.customData ?? {};
const differ = Object.keys(values).filter((k) => !Object.is(back[k], values[k]));
t.check(differ.length === 0, 'a stored event keeps every double exactly',
  differ.map((k) => `${k}: sent ${values[k]}, stored ${back[k]}`).join('; '));
const viaHook = postJson(hook, { ...good, subject: 'floats', customData: values });
const hooked = (await stored(viaHook.json?.id))?.customData ?? {};
t.check(Object.keys(values).every((k) => Object.is(hooked[k], values[k])), 'and so does a hook\'s customData',
  JSON.stringify(hooked));
const dry = postJson(`${hook}?dry_run=1`, { ...good, customData: values });
t.check(Object.keys(values).every((k) => Object.is(dry.json?.events?.[0]?.customData?.[k], values[k])),
  'and a dry run\'s answer', dry.body);
const withFraction = postJson(hook, hookWith('1.0'));
t.check(withFraction.status === 202, '1.0 is accepted (stored as 1: the same value)', withFraction.body);

// ---- Lengths: ids, subjects, sources and chain ids ---------------------
const big = 'x'.repeat(100 * 1024);
expectError(postJson(`${d.url}/v1/events`, cdevent(big)), 400, '/context/id', `at most ${ID_MAX} bytes`,
  'a 100 KB context.id is refused');
expectError(postJson(`${d.url}/v1/events`, cdevent('long-subject', { subject: { id: big } })), 400, '/subject/id',
  `at most ${ID_MAX} bytes`, 'a 100 KB subject.id is refused');
expectError(postJson(`${d.url}/v1/events`, cdevent('long-source', { context: { source: `/${big}` } })), 400,
  '/context/source', `at most ${SOURCE_MAX} bytes`, 'a 100 KB context.source is refused');
expectError(postJson(`${d.url}/v1/events`, cdevent('long-chain', { context: { chainId: big } })), 400,
  '/context/chainId', `at most ${ID_MAX} bytes`, 'a 100 KB chainId is refused');
expectError(postJson(hook, { ...good, subject: big }), 400, '/subject', `at most ${ID_MAX} bytes`,
  'a hook: a 100 KB subject is refused');
expectError(postJson(hook, { ...good, chainId: 'c'.repeat(ID_MAX + 1) }), 400, '/chainId', `at most ${ID_MAX} bytes`,
  'a hook: a chainId one byte past the limit is refused');
expectError(postJson(hook, { ...good, id: 'i'.repeat(ID_MAX + 1) }), 400, '/id', `at most ${ID_MAX} bytes`,
  'a hook: an id one byte past the limit is refused');
expectError(postJson(hook, { ...good, source: `/${'s'.repeat(SOURCE_MAX)}` }), 400, '/source',
  `at most ${SOURCE_MAX} bytes`, 'a hook: a source one byte past the limit is refused');
expectError(postJson(hook, { ...good, artifactId: 'a'.repeat(ID_MAX + 1) }), 400, '/artifactId',
  `at most ${ID_MAX} bytes`, 'a hook: an artifactId past the limit is refused');
expectError(postJson(hook, { ...good, environment: 'e'.repeat(ID_MAX + 1) }), 400, '/environment/id',
  `at most ${ID_MAX} bytes`, 'a hook: a referenced subject\'s id past the limit is refused');
expectError(postJson(`${d.url}/v1/hooks/pipeline`, { phase: 'started', subject: 'r', uri: 'https://ci/r',
  pipelineName: 'p'.repeat(ID_MAX + 1) }),
  400, '/pipelineName', `at most ${ID_MAX} bytes`, 'a hook: a pipeline name past the limit is refused');
expectError(postJson(hook, { ...good, chainId: 'ü'.repeat(ID_MAX / 2 + 1) }), 400, '/chainId', 'bytes',
  'the limit counts UTF-8 bytes, not characters');

// A pod's name is the subject's id ("namespace/name"): a long one is
// refused whole, not cut.
const pod = JSON.parse(fs.readFileSync(new URL('../../data/pods/succeeded.json', import.meta.url)));
pod.metadata.name = 'p'.repeat(ID_MAX);
const podReply = postJson(`${d.url}/v1/hooks/pod`, pod);
t.check(podReply.status === 400 && podReply.json?.details?.some((e) => e.reason.includes(`at most ${ID_MAX} bytes`)),
  'a pod hook: a subject id (namespace/name) past the limit is refused', podReply.body.slice(0, 300));

const atLimit = { ...good, subject: 's'.repeat(ID_MAX), id: 'i'.repeat(ID_MAX), chainId: 'c'.repeat(ID_MAX),
  artifactId: 'a'.repeat(ID_MAX), source: `/${'s'.repeat(SOURCE_MAX - 1)}` };
const ok = postJson(hook, atLimit);
const kept = await stored(atLimit.id);
t.check(ok.status === 202 && kept?.context.id === atLimit.id && kept.context.chainId === atLimit.chainId &&
  kept.context.source === atLimit.source && kept.subject.id === atLimit.subject &&
  kept.subject.content.artifactId === atLimit.artifactId, 'every field at its limit is accepted and kept whole',
  `${ok.status} ${ok.body.slice(0, 200)}`);

// ---- /v1/events batches are all or nothing ------------------------------
const batch = [
  { specversion: '1.0', id: 'all-0', source: '/ci', type: 'dev.cdevents.build.started.0.3.0', data: cdevent('all-0') },
  { specversion: '1.0', id: 'all-1', source: '/ci', type: 'dev.cdevents.build.started.0.3.0',
    data: cdevent('all-1', { context: { timestamp: 'yesterday' } }) },
];
const refused = curl(['-X', 'POST', '-H', 'Content-Type: application/cloudevents-batch+json',
  '--data-binary', JSON.stringify(batch), `${d.url}/v1/events`]);
expectError(refused, 400, '/1/data/context/timestamp', 'RFC 3339', 'a batch with one invalid event is refused');
t.check(await stored('all-0') === null, 'and none of its events is stored, not even the valid one');

t.check(curl([`${d.url}/healthz`]).status === 200, 'the daemon is still up');
t.check(await d.stop() === 0, 'exits 0 on SIGTERM', d.log().slice(-2000));
t.finish();
