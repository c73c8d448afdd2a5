// Queries on an audit log of 100,000 events: every filter of GET
// /v1/events (and of `cdevctl audit query`) returns exactly the rows it
// should, pages join up without gaps or repeats, chains and ids resolve.
// Latencies are printed, never asserted.
//
//   node tests/js/integration/query.mjs path/to/cdeventsd path/to/cdevctl [events]
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startDaemon, checker, auditDb } from '../daemon.mjs';

const t = checker();
const [bin, cdevctl] = process.argv.slice(2, 4);
const N = Number(process.argv[4] || process.env.CDE_QUERY_EVENTS || 100000);
const d = await startDaemon(bin);

// The events, and what each filter should find, computed here.
const envs = ['dev', 'staging', 'prod'];
const model = [];
for (let i = 0; i < N; i++) {
  const kind = i % 3;
  const art = `pkg:oci/etl@${i % 500}`;
  const e = {
    seq: i + 1, id: `e-${i}`, source: `/ci/${i % 4}`, subject: kind === 1 ? art : `svc-${i % 1000}`,
    chain: `rel-${Math.floor(i / 50)}`,
    type: ['dev.cdevents.build.started.0.3.0', 'dev.cdevents.artifact.published.0.3.0',
      'dev.cdevents.service.deployed.0.3.0'][kind],
    env: kind === 2 ? envs[i % 7 % 3] : null,
    artifact: kind === 0 ? null : art,
  };
  e.cdevent = {
    context: { specversion: '0.5.1', id: e.id, source: e.source, type: e.type,
      timestamp: '2025-01-01T00:00:00Z', chainId: e.chain },
    subject: { id: e.subject, content: kind === 2 ? { environment: { id: e.env }, artifactId: art } : {} },
  };
  model.push(e);
}

const t0 = Date.now();
const loadStart = new Date(t0 - 60000);
for (let i = 0; i < N; i += 500) {
  const batch = model.slice(i, i + 500).map((e) => ({
    specversion: '1.0', id: e.id, source: e.source, type: e.type, data: e.cdevent,
  }));
  const res = await fetch(`${d.url}/v1/events`, {
    method: 'POST', headers: { 'Content-Type': 'application/cloudevents-batch+json' }, body: JSON.stringify(batch),
  });
  const text = await res.text(); // read, so the connection is reused
  if (res.status !== 202) throw new Error(`load failed: ${res.status} ${text}`);
}
console.log(`loaded ${N} events in ${((Date.now() - t0) / 1000).toFixed(1)} s (batches of 500)`);

// Pages through a GET query; returns the seqs and the first page's time.
async function all(query) {
  const seqs = [];
  let after = null, firstMs = null;
  for (;;) {
    const q = query + (after ? `&after=${after}` : '') + '&limit=1000';
    const t1 = process.hrtime.bigint();
    const res = await fetch(`${d.url}/v1/events?${q}`);
    const body = await res.json();
    if (firstMs === null) firstMs = Number(process.hrtime.bigint() - t1) / 1e6;
    if (res.status !== 200) throw new Error(`${q}: ${res.status} ${JSON.stringify(body)}`);
    seqs.push(...body.events.map((r) => r.seq));
    if (body.nextAfter === null) break;
    after = body.nextAfter;
  }
  return { seqs, firstMs };
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const expect = (pred) => model.filter(pred).map((e) => e.seq);
const cases = [
  ['subject=svc-7', (e) => e.subject === 'svc-7'],
  ['chainId=rel-123', (e) => e.chain === 'rel-123'],
  ['type=dev.cdevents.service.deployed', (e) => e.type.startsWith('dev.cdevents.service.deployed.')],
  ['type=dev.cdevents.build.started.0.3.0&source=/ci/2', (e) => e.type === 'dev.cdevents.build.started.0.3.0' && e.source === '/ci/2'],
  ['artifactId=' + encodeURIComponent('pkg:oci/etl@42'), (e) => e.artifact === 'pkg:oci/etl@42'],
  ['type=dev.cdevents.service.deployed&environment=prod&chainId=rel-1000', (e) => e.env === 'prod' && e.chain === 'rel-1000'],
  ['source=%2Fci%2F3&subject=svc-3', (e) => e.source === '/ci/3' && e.subject === 'svc-3'],
];
const timings = [];
for (const [q, pred] of cases) {
  const got = await all(q);
  const want = expect(pred);
  t.check(same(got.seqs, want), `GET /v1/events?${q} returns exactly its ${want.length} rows`,
    `got ${got.seqs.length}, first ${got.seqs.slice(0, 5)} want first ${want.slice(0, 5)}`);
  timings.push(`${q.split('&')[0]}: ${got.firstMs.toFixed(1)} ms`);
}

// Newest first, and a page boundary inside the results.
let res = await (await fetch(`${d.url}/v1/events?subject=svc-7&order=desc&limit=30`)).json();
const desc = expect((e) => e.subject === 'svc-7').reverse();
t.check(same(res.events.map((r) => r.seq), desc.slice(0, 30)) && res.nextAfter === desc[29],
  'order=desc pages from the newest');
res = await (await fetch(`${d.url}/v1/events?subject=svc-7&order=desc&limit=30&after=${res.nextAfter}`)).json();
t.check(same(res.events.map((r) => r.seq), desc.slice(30, 60)), 'and continues after nextAfter');

// Time received: everything was received today.
const today = new Date().toISOString().slice(0, 10);
res = await (await fetch(`${d.url}/v1/events?since=${today}&limit=5`)).json();
t.check(res.events.length === 5, 'since= today finds the events');
res = await (await fetch(`${d.url}/v1/events?until=${today}&limit=5`)).json();
t.check(res.events.length === 0, 'until= today finds none');

// Times are instants, whatever their offset: the same moment written in
// +05:00 or -05:00 (which compare wrongly as strings) finds the same rows.
const loadEnd = new Date(Date.now() + 60000);
const withOffset = (date, minutes) => {
  const local = new Date(date.getTime() + minutes * 60000).toISOString().slice(0, 19);
  const sign = minutes < 0 ? '-' : '+', m = Math.abs(minutes);
  return `${local}${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};
const firstSeq = async (q) => {
  const r = await fetch(`${d.url}/v1/events?${q}&limit=1`);
  const body = await r.json();
  return r.status === 200 ? (body.events[0]?.seq ?? 'none') : `${r.status} ${JSON.stringify(body)}`;
};
t.check(await firstSeq(`since=${encodeURIComponent(withOffset(loadStart, 300))}`) === 1,
  'since= a time before the load written at +05:00 finds every event', await firstSeq(`since=${encodeURIComponent(withOffset(loadStart, 300))}`));
t.check(await firstSeq(`since=${withOffset(loadStart, 300)}`) === 1,
  'so does a + left unencoded (it arrives as a space)');
t.check(await firstSeq(`until=${encodeURIComponent(withOffset(loadEnd, -300))}`) === 1,
  'until= a time after the load written at -05:00 finds every event');
t.check(await firstSeq(`until=${encodeURIComponent(withOffset(loadStart, 300))}`) === 'none',
  'until= a time before the load at +05:00 finds none');
t.check(await firstSeq(`since=${encodeURIComponent(withOffset(loadEnd, -300))}`) === 'none',
  'since= a time after the load at -05:00 finds none');
t.check(await firstSeq(`since=${loadStart.toISOString().replace('Z', '.123456789Z').replace(/\.\d{3}\./, '.')}`) === 1,
  'a fraction finer than microseconds is accepted');
const badQuery = async (q, pointer, name) => {
  const r = await fetch(`${d.url}/v1/events?${q}`);
  const body = await r.json();
  t.check(r.status === 400 && body.details?.some((e) => e.pointer === pointer), name, `${r.status} ${JSON.stringify(body)}`);
};
await badQuery('since=garbage', '/query/since', 'since= garbage is 400 naming since');
await badQuery(`until=${encodeURIComponent('2025-01-31T04:00:00')}`, '/query/until', 'a time without an offset is 400');
await badQuery('until=2025-02-30', '/query/until', 'a date that does not exist is 400');
await badQuery(`since=${encodeURIComponent('2025-01-31T25:00:00Z')}`, '/query/since', 'an hour 25 is 400');
await badQuery('after=18446744073709551615', '/query/after', 'after= past the largest sequence number is 400, not wrapped');
await badQuery('after=9223372036854775808', '/query/after', 'after= 2^63 is 400');
await badQuery('after=%2B5', '/query/after', 'after= with a sign is 400');
await badQuery('after=%205', '/query/after', 'after= with a space is 400');
await badQuery('limit=1e3', '/query/limit', 'limit= not a whole number is 400');
t.check(await firstSeq('after=9223372036854775807') === 'none', 'after= the largest sequence number finds nothing');

// Ids and chain ids with '/' are fetched percent-encoded (%2F) in the path.
const slashed = {
  context: { specversion: '0.5.1', id: 'ci/run/7', source: '/ci', type: 'dev.cdevents.build.started.0.3.0',
    timestamp: '2025-01-01T00:00:00Z', chainId: 'rel/7 ü' },
  subject: { id: 'svc/x', content: {} },
};
const posted = await fetch(`${d.url}/v1/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(slashed) });
t.check(posted.status === 202, 'an event with / in its id is accepted', await posted.text());
res = await fetch(`${d.url}/v1/events/${encodeURIComponent('ci/run/7')}`);
t.check(res.status === 200 && (await res.json()).events[0]?.event.context.id === 'ci/run/7',
  'GET /v1/events/ci%2Frun%2F7 finds the event ci/run/7');
res = await fetch(`${d.url}/v1/chains/${encodeURIComponent('rel/7 ü')}`);
t.check(res.status === 200 && (await res.json()).events[0]?.event.context.chainId === 'rel/7 ü',
  'GET /v1/chains/rel%2F7%20%C3%BC finds its chain');
t.check((await fetch(`${d.url}/v1/events/ci/run/7`)).status === 404, 'an unencoded / is a path separator: 404');
res = await fetch(`${d.url}/v1/events/bad%zz`);
t.check(res.status === 400, 'a malformed escape in an id is 400', `${res.status}`);

// A chain, an id.
const t2 = process.hrtime.bigint();
res = await fetch(`${d.url}/v1/chains/rel-1999`);
const chainMs = Number(process.hrtime.bigint() - t2) / 1e6;
const chain = await res.json();
t.check(res.status === 200 && same(chain.events.map((r) => r.seq), expect((e) => e.chain === 'rel-1999')),
  'GET /v1/chains/{chainId} returns the whole chain in order');
const rec = chain.events[0];
t.check(rec.event.context.chainId === 'rel-1999' && rec.principal === 'anonymous' && /^[0-9a-f]{64}$/.test(rec.hash) &&
  /^[0-9a-f]{64}$/.test(rec.prevHash) && rec.receivedAt && rec.peer, 'records carry seq, receivedAt, principal, peer, hashes, event');
res = await fetch(`${d.url}/v1/events/e-77777`);
const byId = await res.json();
t.check(res.status === 200 && byId.events.length === (N > 77777 ? 1 : 0) || N <= 77777, 'GET /v1/events/{id} finds the event');
t.check((await fetch(`${d.url}/v1/events/nope`)).status === 404, 'an unknown id is 404');
t.check((await fetch(`${d.url}/v1/chains/nope`)).status === 404, 'an unknown chain is 404');

// The CLI reads the same file directly.
const db = auditDb(d.stateDir);
const cli = spawnSync(cdevctl, ['audit', 'query', '--db', db, '--subject', 'svc-7'], { encoding: 'utf8', maxBuffer: 1 << 26 });
const cliSeqs = cli.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l).seq);
t.check(cli.status === 0 && same(cliSeqs, expect((e) => e.subject === 'svc-7')), 'cdevctl audit query --subject agrees');
const cli2 = spawnSync(cdevctl, ['audit', 'query', '--db', db, '--artifact', 'pkg:oci/etl@42', '--type',
  'dev.cdevents.artifact', '--table'], { encoding: 'utf8' });
t.check(cli2.status === 0 && cli2.stdout.split('\n').filter(Boolean).length - 1 === expect((e) => e.artifact === 'pkg:oci/etl@42' && e.type.startsWith('dev.cdevents.artifact.')).length,
  'cdevctl audit query --table prints a header and a line per record', cli2.stdout.slice(0, 300));
const cliSince = spawnSync(cdevctl, ['audit', 'query', '--db', db, '--since', withOffset(loadStart, 300), '--limit', '1'],
  { encoding: 'utf8' });
t.check(cliSince.status === 0 && JSON.parse(cliSince.stdout.split('\n')[0] || 'null')?.seq === 1,
  'cdevctl audit query --since compares instants too', cliSince.stdout.slice(0, 200) + cliSince.stderr);
const cliBad = spawnSync(cdevctl, ['audit', 'query', '--db', db, '--until', 'garbage'], { encoding: 'utf8' });
t.check(cliBad.status === 2 && cliBad.stdout === '' && cliBad.stderr.includes('--until garbage'),
  'cdevctl audit query --until garbage fails with a message', `${cliBad.status} ${cliBad.stderr}`);
const cliAfter = spawnSync(cdevctl, ['audit', 'query', '--db', db, '--after', '18446744073709551615'], { encoding: 'utf8' });
t.check(cliAfter.status === 2 && cliAfter.stdout === '' && cliAfter.stderr.includes('--after'),
  'cdevctl audit query --after past the largest sequence number fails, not wrapped', `${cliAfter.status} ${cliAfter.stderr}`);
const cliExport = spawnSync(cdevctl, ['audit', 'export', '--db', db, '--since', 'yesterday'], { encoding: 'utf8' });
t.check(cliExport.status === 2 && cliExport.stderr.includes('--since yesterday'),
  'cdevctl audit export --since checks its time too', `${cliExport.status} ${cliExport.stderr}`);
const v = spawnSync(cdevctl, ['audit', 'verify', '--db', db], { encoding: 'utf8' });
t.check(v.status === 0 && v.stdout.includes(`intact, ${N + 1} events`), 'the chain of all of them verifies', v.stdout);

// A type stored in two versions: a filter without the version finds
// both, one with it only its own (the one-version shortcut must see the
// second version, not stop at the first).
{
  const older = { version: '0.4.1', id: 'older-deploy', source: '/ci', type: 'dev.cdevents.service.deployed.0.2.0',
    timestamp: '2025-01-01T00:00:00Z', chainId: 'rel-older' };
  const res2 = await fetch(`${d.url}/v1/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ context: older, subject: { id: 'svc-older', type: 'service', content: { environment: { id: 'prod' },
      artifactId: 'pkg:oci/etl@1' } } }) });
  const posted = await res2.json();
  t.check(res2.status === 202, 'a service.deployed of spec 0.4.1 is stored', JSON.stringify(posted));
  const newest = await (await fetch(`${d.url}/v1/events?type=dev.cdevents.service.deployed&order=desc&limit=2`)).json();
  t.check(newest.events[0]?.event.context.id === 'older-deploy' &&
    newest.events[1]?.event.context.type === 'dev.cdevents.service.deployed.0.3.0',
    'type without its version finds both versions', JSON.stringify(newest).slice(0, 300));
  const only = await (await fetch(`${d.url}/v1/events?type=dev.cdevents.service.deployed.0.2.0`)).json();
  t.check(only.events.length === 1 && only.events[0].event.context.id === 'older-deploy', 'type with its version finds only it');
  const current = await (await fetch(`${d.url}/v1/events?type=dev.cdevents.service.deployed.0.3.0&order=desc&limit=1`)).json();
  t.check(current.events[0]?.event.context.type === 'dev.cdevents.service.deployed.0.3.0', 'and the other version only its own');
}

console.log(`first-page latency on ${N} events: ${timings.join('; ')}; chain: ${chainMs.toFixed(1)} ms`);
t.check(await d.stop() === 0, 'exits 0 on SIGTERM');
t.finish();
