// Traceability: hooks without a chainId join their release's chain by
// correlation (the pipeline run a task names, the artifact id flowing from
// build to artifact to deployment, the same subject), with a PATH link
// from the chain's previous event; the stored events stay valid per ajv;
// an explicit chainId is kept; events posted as CDEvents are kept as
// received; a hook about an artifact the log does not know does not join
// another artifact's chain by a reused subject. The Merkle leaves the
// writer fills into templates for these events (a chainId and a PATH link
// added after hashing ahead) are the leaves `cdevctl audit verify`
// recomputes from the stored rows.
//
//   node tests/js/integration/chains.mjs path/to/cdeventsd path/to/cdevctl
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startDaemon, postJson, checker, auditDb } from '../daemon.mjs';
import { oracle } from '../oracle.mjs';

const t = checker();
const d = await startDaemon(process.argv[2]);
const ajv = oracle('v0.5.1');
const hook = (kind, payload) => {
  const r = postJson(`${d.url}/v1/hooks/${kind}`, payload);
  if (r.status !== 202) throw new Error(`${kind}: ${r.status} ${r.body}`);
  return r.json;
};
const chain = async (id) => (await (await fetch(`${d.url}/v1/chains/${id}`)).json()).events.map((r) => r.event);

const run = hook('pipeline', { phase: 'started', subject: 'run-7', pipelineName: 'etl', uri: 'https://tekton/run-7' });
const task = hook('task', { phase: 'started', subject: 'run-7-submit', taskName: 'spark-submit', pipelineRun: 'run-7' });
const done = hook('pipeline', { phase: 'finished', subject: 'run-7', outcome: 'success' });
t.check(run.chainId && task.chainId === run.chainId && done.chainId === run.chainId,
  'a task run joins the chain of the pipeline run it names; the run\'s own events share it');

const art = 'pkg:oci/etl@sha256%3Aabc';
const build = hook('build', { phase: 'finished', subject: 'b-42', artifactId: art });
const pub = hook('artifact', { phase: 'published', subject: art });
const dep = hook('deploy', { phase: 'deployed', subject: 'etl-job', environment: 'prod', artifactId: art });
t.check(build.chainId !== run.chainId && pub.chainId === build.chainId && dep.chainId === build.chainId,
  'an artifact id flowing from build to artifact to deployment makes one chain');

const events = await chain(build.chainId);
t.check(events.map((e) => e.context.id).join() === [build.id, pub.id, dep.id].join(),
  'GET /v1/chains returns the release in order');
t.check(!events[0].context.links && events[1].context.links?.[0]?.linkType === 'PATH' &&
  events[1].context.links[0].from.contextId === build.id && events[2].context.links[0].from.contextId === pub.id,
  'each event links (PATH) from the previous event of its chain', JSON.stringify(events.map((e) => e.context.links)));
const all = [...events, ...(await chain(run.chainId))];
const invalid = all.filter((e) => !ajv(e).valid);
t.check(invalid.length === 0, 'the stored, enriched events are valid per the official schemas',
  JSON.stringify(invalid.map((e) => ajv(e).errors)));

// An explicit chainId is kept as given, without links added.
const own = hook('build', { phase: 'started', subject: 'b-43', chainId: 'release-2025-11' });
const ownEvents = await chain('release-2025-11');
t.check(own.chainId === 'release-2025-11' && ownEvents.length === 1 && !ownEvents[0].context.links,
  'an explicit chainId is kept');

// A CDEvent posted as such is stored as received: no chain is added.
const cdevent = {
  context: { specversion: '0.5.1', id: 'as-received', source: '/sdk', type: 'dev.cdevents.build.started.0.3.0',
    timestamp: '2025-01-01T00:00:00Z' },
  subject: { id: 'b-42', content: {} },
};
postJson(`${d.url}/v1/events`, cdevent);
const stored = (await (await fetch(`${d.url}/v1/events/as-received`)).json()).events[0].event;
t.check(JSON.stringify(stored) === JSON.stringify(cdevent), 'events posted as CDEvents are stored exactly as received',
  JSON.stringify(stored));
// A chainId and an id at the length limit (512 bytes) are carried whole
// to the events that join the chain later (they were once cut at 255).
const longChain = `release-${'c'.repeat(512 - 8)}`, longId = `build-${'i'.repeat(512 - 6)}`;
const first = hook('build', { phase: 'queued', subject: 'b-long', chainId: longChain, id: longId });
const joined = hook('build', { phase: 'started', subject: 'b-long' });
const joinedEvent = (await (await fetch(`${d.url}/v1/events/${joined.id}`)).json()).events[0].event;
t.check(first.chainId === longChain && joined.chainId === longChain && joinedEvent.context.chainId === longChain,
  'an event joins a chain whose id is at the limit under that same id', `${joined.chainId?.length}`);
t.check(joinedEvent.context.links?.[0]?.from.contextId === longId, 'and links from the previous event\'s whole id',
  JSON.stringify(joinedEvent.context.links)?.slice(0, 200));
t.check(postJson(`${d.url}/v1/hooks/build`, { phase: 'started', subject: 'b-x', chainId: `${longChain}c` }).status === 400,
  'a chainId one byte longer is refused');
// A hook with links of its own and customData JCS rewrites joins a chain:
// its PATH link comes after the links it was sent with.
const own2 = hook('build', { phase: 'finished', subject: 'b-long',
  links: [{ linkType: 'RELATION', linkKind: 'TRIGGER', target: { contextId: 'upstream-1' } }],
  customData: { note: 'caf\u00e9 \u2028 "q" \\ \ud83d\ude00', n: [1.50, 1e21, -0.001, 12345678901234] } });
const own2Event = (await (await fetch(`${d.url}/v1/events/${own2.id}`)).json()).events[0].event;
t.check(own2Event.context.links?.length === 2 && own2Event.context.links[1].linkType === 'PATH' &&
  own2Event.context.links[1].from.contextId === joined.id, 'a hook\'s own links come first, then its PATH link',
JSON.stringify(own2Event.context.links));

// Incidents: one naming the artifact joins the release that built and
// deployed it; one naming only the service joins the chain of the latest
// deployment of that service in the incident's environment (a newer
// release in stage is not what broke prod); the incident's later events
// stay in that chain. A change's events share their subject's chain.
const art2 = 'pkg:oci/etl@sha256%3Adef';
const build2 = hook('build', { phase: 'finished', subject: 'b-44', artifactId: art2 });
const stage2 = hook('deploy', { phase: 'deployed', subject: 'etl-job', environment: 'stage', artifactId: art2 });
const byArtifact = hook('incident', { phase: 'detected', subject: 'inc-1', environment: 'prod', artifactId: art });
const prodInc = hook('incident', { phase: 'detected', subject: 'inc-2', environment: 'prod', service: 'etl-job',
  description: 'p99 up' });
const stageInc = hook('incident', { phase: 'detected', subject: 'inc-3', environment: 'stage', service: 'etl-job' });
t.check(stage2.chainId === build2.chainId && stage2.chainId !== build.chainId, 'a second release has its own chain');
t.check(byArtifact.chainId === build.chainId, 'an incident naming an artifact joins that artifact\'s chain',
  JSON.stringify(byArtifact));
t.check(prodInc.chainId === build.chainId && stageInc.chainId === build2.chainId,
  'an incident naming a service joins the chain of its latest deployment in the environment of the incident',
  JSON.stringify([prodInc, stageInc]));
const prodInc2Event = (await (await fetch(`${d.url}/v1/events/${prodInc.id}`)).json()).events[0].event;
t.check(prodInc2Event.context.links?.[0]?.linkType === 'PATH' &&
  prodInc2Event.context.links[0].from.contextId === byArtifact.id,
  'and links (PATH) from that chain\'s previous event', JSON.stringify(prodInc2Event.context.links));
const prod2 = hook('deploy', { phase: 'upgraded', subject: 'etl-job', environment: 'prod', artifactId: art2 });
const resolved = hook('incident', { phase: 'resolved', subject: 'inc-2', environment: 'prod', service: 'etl-job' });
const unknown = hook('incident', { phase: 'detected', subject: 'inc-4', environment: 'dev', service: 'etl-job' });
t.check(prod2.chainId === build2.chainId && resolved.chainId === build.chainId,
  'an incident resolved after the next deployment stays in the chain its detection joined', JSON.stringify(resolved));
t.check(unknown.chainId !== build.chainId && unknown.chainId !== build2.chainId,
  'a service never deployed in that environment: a new chain');
const prodInc3 = hook('incident', { phase: 'detected', subject: 'inc-5', environment: 'prod', service: 'etl-job' });
t.check(prodInc3.chainId === build2.chainId, 'after the upgrade, a new prod incident joins the upgraded release');
const pr = ['created', 'reviewed', 'merged'].map((phase) => hook('change', { phase, subject: 'pr-42', repository: 'etl' }));
t.check(pr.every((c) => c.chainId === pr[0].chainId) && pr[0].chainId !== build.chainId,
  'a change\'s events share one chain, by its subject');
const incidents = [...(await chain(build.chainId)), ...(await chain(build2.chainId)), ...(await chain(pr[0].chainId))];
const bad = incidents.filter((e) => !ajv(e).valid);
t.check(incidents.length === 14 && bad.length === 0, 'the correlated incidents and changes are valid per the official schemas',
  `${incidents.length} ${JSON.stringify(bad.map((e) => ajv(e).errors))}`);

// A hook about an artifact the log does not know joins a chain by its
// subject (or, an incident, by the service's deployment) only if that
// chain names no other artifact: a deployment's subject is the service
// and a build's may be a reused job name, the same for every release,
// and the last release's chain is not the new artifact's (a gate for it
// would count that release's tests).
const unannounced = 'pkg:oci/etl@sha256%3Ax99';
const blind = hook('deploy', { phase: 'deployed', subject: 'etl-job', environment: 'stage', artifactId: unannounced });
const blindRecord = (await (await fetch(`${d.url}/v1/events/${blind.id}`)).json()).events[0];
t.check(![build.chainId, build2.chainId].includes(blind.chainId) && !blindRecord.event.context.links &&
  !blindRecord.chainVia, 'deploying an artifact never seen into a service whose last chain names another: a new chain',
  JSON.stringify({ blind, chainVia: blindRecord.chainVia }));
const reused = hook('build', { phase: 'finished', subject: 'b-44', artifactId: 'pkg:oci/etl@sha256%3Ay77' });
t.check(reused.chainId !== build2.chainId, 'so does a build of a new artifact under a reused build subject',
  JSON.stringify(reused));
const incX = hook('incident', { phase: 'detected', subject: 'inc-6', environment: 'prod', service: 'etl-job',
  artifactId: 'pkg:oci/etl@sha256%3Az55' });
t.check(incX.chainId !== build2.chainId,
  'an incident about an unknown artifact does not join the service\'s deployment of another', JSON.stringify(incX));
const queued = hook('build', { phase: 'started', subject: 'b-45' });
const finished = hook('build', { phase: 'finished', subject: 'b-45', artifactId: 'pkg:oci/etl@sha256%3Aw45' });
const finishedRecord = (await (await fetch(`${d.url}/v1/events/${finished.id}`)).json()).events[0];
t.check(finished.chainId === queued.chainId && finishedRecord.chainVia === queued.seq,
  'a build started without its artifact and finished with a new one stays one chain (it named no other)',
  JSON.stringify({ queued, finished, chainVia: finishedRecord.chainVia }));
const shipped = hook('deploy', { phase: 'deployed', subject: 'etl-job', environment: 'stage',
  artifactId: 'pkg:oci/etl@sha256%3Aw45' });
t.check(shipped.chainId === queued.chainId, 'and that artifact\'s deployment joins it by the artifact', JSON.stringify(shipped));

// GET /v1/chains: the chains newest first, a page at a time, each listed
// once, as the events say (every chainId of the log, by its latest event).
const get = async (q) => { const r = await fetch(`${d.url}/v1/chains${q}`); return { status: r.status, json: await r.json() }; };
const everyEvent = [];
for (let after = null; ;) {
  const page = (await (await fetch(`${d.url}/v1/events?order=desc&limit=1000${after ? `&after=${after}` : ''}`)).json());
  everyEvent.push(...page.events);
  if (page.nextAfter === null) break;
  after = page.nextAfter;
}
const newestFirst = [...new Set(everyEvent.map((r) => r.event.context.chainId).filter(Boolean))];
const listed = [];
let pages = 0;
for (let after = null; pages < 50; pages++) {
  const r = await get(`?limit=2${after ? `&after=${after}` : ''}`);
  if (r.status !== 200) { t.check(false, 'GET /v1/chains answers 200', JSON.stringify(r)); break; }
  listed.push(...r.json.chains.map((c) => c.chainId));
  if (r.json.nextAfter === null) break;
  after = r.json.nextAfter;
}
t.check(JSON.stringify(listed) === JSON.stringify(newestFirst) && pages > 2,
  'GET /v1/chains pages through every chain once, newest first, as the events order them',
  `\n got  ${JSON.stringify(listed)}\n want ${JSON.stringify(newestFirst)}`);
const prodChains = await get('?environment=prod');
t.check(prodChains.json.chains.length > 0 && prodChains.json.chains.every((c) =>
  everyEvent.some((r) => r.event.context.chainId === c.chainId && r.event.subject.content?.environment?.id === 'prod')),
  'a filter of /v1/events picks the events that place a chain (environment=prod)', JSON.stringify(prodChains.json));
const one = (await get(`?subject=b-42`)).json.chains;
const span = everyEvent.filter((r) => r.event.context.chainId === build.chainId).map((r) => r.seq);
t.check(one.length === 1 && one[0].chainId === build.chainId && one[0].firstSeq === Math.min(...span) &&
  one[0].lastSeq === Math.max(...span), 'each chain says its first and last seq', JSON.stringify(one));
for (const [q, ptr] of [['?chainId=x', '/query/chainId'], ['?order=desc', '/query/order'], ['?limit=101', '/query/limit'],
  ['?after=x', '/query/after'], ['?bogus=1', '/query/bogus'], ['?head=x', '/query/head'], ['?head=-1', '/query/head'],
  ['?after=9&head=8', '/query/head']]) {
  const r = await get(q);
  t.check(r.status === 400 && r.json.details?.[0]?.pointer === ptr, `GET /v1/chains${q}: 400 at ${ptr}`, JSON.stringify(r.json));
}
t.check((await get('?bogus=1')).json.details?.[0]?.reason?.includes('head'), 'and head is among the parameters it knows');

// Paging while the log grows: before each page, the oldest chain not yet
// listed gets an event. Each page passes the first page's head with
// nextAfter, so the pages list the chains as they stood when the first
// was read, each once (without head such a chain counted as shown, its
// latest event being after the page's start, and was on no page).
const snapshot = async () => {
  const rows = [];
  for (let after = null; ;) {
    const page = await (await fetch(`${d.url}/v1/events?order=desc&limit=1000${after ? `&after=${after}` : ''}`)).json();
    rows.push(...page.events);
    if (page.nextAfter === null) return rows;
    after = page.nextAfter;
  }
};
const before = await snapshot();
const stood = [...new Set(before.map((r) => r.event.context.chainId).filter(Boolean))];
const paged = [];
let head = null, late = 0, lastLate = null;
const heads = new Set();
for (let after = null, n = 0; n < 50; n++) {
  const r = await get(`?limit=2${after ? `&after=${after}&head=${head}` : ''}`);
  if (r.status !== 200) { t.check(false, 'GET /v1/chains answers 200 while the log grows', JSON.stringify(r)); break; }
  head ??= r.json.head;
  heads.add(r.json.head);
  paged.push(...r.json.chains.map((c) => c.chainId));
  if (r.json.nextAfter === null) break;
  after = r.json.nextAfter;
  const pending = stood.filter((c) => !paged.includes(c));
  if (pending.length) {
    lastLate = hook('build', { phase: 'started', subject: `late-${n}`, chainId: pending.at(-1) }).chainId;
    late++;
  }
}
t.check(head === before[0].seq && heads.size === 1, 'the first page says the head it read; later pages say it again',
  `${head} ${before[0].seq} ${[...heads]}`);
t.check(late > 2 && JSON.stringify(paged) === JSON.stringify(stood),
  'paging while chains not yet listed get events lists every chain once, as they stood at the first page',
  `\n got  ${JSON.stringify(paged)}\n want ${JSON.stringify(stood)}`);
const fresh = await get('?limit=1');
t.check(fresh.json.head > head && fresh.json.chains[0]?.chainId === lastLate && fresh.json.nextAfter !== null,
  'a new first page reads the log as it is now', JSON.stringify(fresh.json));

t.check(await d.stop() === 0, 'exits 0 on SIGTERM');
const v = spawnSync(process.argv[3], ['audit', 'verify', '--db', auditDb(d.stateDir)], { encoding: 'utf8' });
t.check(v.status === 0, 'the log and its Merkle tree verify from the stored rows', v.stdout + v.stderr);
t.finish();
