// Traceability: hooks without a chainId join their release's chain by
// correlation (the pipeline run a task names, the artifact id flowing from
// build to artifact to deployment, the same subject), with a PATH link
// from the chain's previous event; the stored events stay valid per ajv;
// an explicit chainId is kept; events posted as CDEvents are kept as
// received. The Merkle leaves the writer fills into templates for these
// events (a chainId and a PATH link added after hashing ahead) are the
// leaves `cdevctl audit verify` recomputes from the stored rows.
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
t.check(await d.stop() === 0, 'exits 0 on SIGTERM');
const v = spawnSync(process.argv[3], ['audit', 'verify', '--db', auditDb(d.stateDir)], { encoding: 'utf8' });
t.check(v.status === 0, 'the log and its Merkle tree verify from the stored rows', v.stdout + v.stderr);
t.finish();
