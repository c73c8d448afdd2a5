// Ingest against a real daemon: every hook kind and phase posted with curl
// gives 202 and an event that ajv accepts against the official schema;
// the CloudEvents JS SDK sends in binary and structured mode; the official
// conformance examples are accepted on /v1/events; duplicates answer 200.
//
//   node tests/js/integration/ingest.mjs path/to/cdeventsd
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CloudEvent, HTTP } from 'cloudevents';
import { startDaemon, postJson, curl, checker } from '../daemon.mjs';
import { oracle, conformanceExamples } from '../oracle.mjs';

const t = checker();
// Every official example names a schemaUri nobody publishes
// (https://myorg.com/schema/custom): accepted only with the switch.
const cfgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-ingest-'));
const cfg = path.join(cfgDir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, 'schemas:\n  unknown_schema_uri: accept\n');
const d = await startDaemon(process.argv[2], ['-c', cfg]);
const ajv = oracle('v0.5.1');

// kind, payload: one per kind and phase, as a pipeline step would send it.
const hooks = [
  ['build', { phase: 'queued', subject: 'etl-build-42' }],
  ['build', { phase: 'started', subject: 'etl-build-42' }],
  ['build', { phase: 'finished', subject: 'etl-build-42', artifactId: 'pkg:oci/etl@sha256%3Aabc' }],
  ['test', { phase: 'queued', subject: 'suite-1', environment: 'ci' }],
  ['test', { phase: 'started', subject: 'suite-1', environment: 'ci', testSuite: 'etl-tests' }],
  ['test', { phase: 'finished', subject: 'suite-1', environment: 'ci', outcome: 'success' }],
  ['test', { phase: 'queued', level: 'case', subject: 'case-1', environment: 'ci' }],
  ['test', { phase: 'started', level: 'case', subject: 'case-1', environment: 'ci', testCase: { id: 't1', type: 'unit' } }],
  ['test', { phase: 'finished', level: 'case', subject: 'case-1', environment: 'ci', outcome: 'failure', reason: 'assert', severity: 'low' }],
  ['test', { phase: 'skipped', subject: 'case-2', reason: 'flaky' }],
  ['test', { phase: 'published', subject: 'report-1', outputType: 'report', format: 'junit', uri: 'https://ci.example/r.xml' }],
  ['artifact', { phase: 'packaged', subject: 'pkg:oci/etl@sha256%3Aabc', change: 'commit-1' }],
  ['artifact', { phase: 'published', subject: 'pkg:oci/etl@sha256%3Aabc', user: 'jenkins' }],
  ['artifact', { phase: 'signed', subject: 'pkg:oci/etl@sha256%3Aabc', signature: 'MEUCIQDx' }],
  ['artifact', { phase: 'downloaded', subject: 'pkg:oci/etl@sha256%3Aabc', user: 'spark' }],
  ['artifact', { phase: 'deleted', subject: 'pkg:oci/etl@sha256%3Aabc' }],
  ['deploy', { phase: 'deployed', subject: 'etl-job', environment: 'prod', artifactId: 'pkg:oci/etl@sha256%3Aabc' }],
  ['deploy', { phase: 'upgraded', subject: 'etl-job', environment: { id: 'prod', source: '/k8s/prod' }, artifactId: 'pkg:oci/etl@2' }],
  ['deploy', { phase: 'rolledback', subject: 'etl-job', environment: 'prod', artifactId: 'pkg:oci/etl@1' }],
  ['deploy', { phase: 'removed', subject: 'etl-job', environment: 'prod' }],
  ['deploy', { phase: 'published', subject: 'etl-job', environment: 'prod' }],
  ['pipeline', { phase: 'queued', subject: 'run-7', pipelineName: 'etl-release' }],
  ['pipeline', { phase: 'started', subject: 'run-7', pipelineName: 'etl-release', uri: 'https://tekton.example/run-7' }],
  ['pipeline', { phase: 'finished', subject: 'run-7', pipelineName: 'etl-release', outcome: 'success' }],
  ['task', { phase: 'started', subject: 'run-7-submit', taskName: 'spark-submit', pipelineRun: 'run-7' }],
  ['task', { phase: 'finished', subject: 'run-7-submit', taskName: 'spark-submit', outcome: 'failure', errors: 'OOMKilled' }],
  ['environment', { phase: 'created', subject: 'prod', name: 'Production', uri: 'https://k8s.example/prod' }],
  ['environment', { phase: 'modified', subject: 'prod', name: 'Production' }],
  ['environment', { phase: 'deleted', subject: 'prod' }],
  ['change', { phase: 'created', subject: 'pr-42', description: 'faster joins', repository: 'etl' }],
  ['change', { phase: 'reviewed', subject: 'pr-42', repository: { id: 'etl', source: '/github/data' } }],
  ['change', { phase: 'merged', subject: 'pr-42', repository: 'etl' }],
  ['change', { phase: 'abandoned', subject: 'pr-43', repository: 'etl' }],
  ['change', { phase: 'updated', subject: 'pr-42', repository: 'etl' }],
  ['incident', { phase: 'detected', subject: 'inc-7', environment: 'prod', service: 'etl-job',
    artifactId: 'pkg:oci/etl@sha256%3Aabc', description: 'p99 latency up' }],
  ['incident', { phase: 'reported', subject: 'inc-7', environment: 'prod', ticketURI: 'https://jira.example/INC-7' }],
  ['incident', { phase: 'resolved', subject: 'inc-7', environment: 'prod', service: 'etl-job' }],
  ['ticket', { phase: 'created', subject: 'CHG-1', summary: 'release 42 to prod', creator: 'ci', ticketType: 'task',
    uri: 'https://jira.example/CHG-1', labels: ['etl'], assignees: ['ana'], priority: 'medium' }],
  ['ticket', { phase: 'updated', subject: 'CHG-1', uri: 'https://jira.example/CHG-1', updatedBy: 'ana' }],
  ['ticket', { phase: 'closed', subject: 'CHG-1', uri: 'https://jira.example/CHG-1', resolution: 'completed' }],
  ['repository', { phase: 'created', subject: 'etl', name: 'etl', owner: 'data', uri: 'https://git.example/data/etl',
    viewUrl: 'https://git.example/data/etl/tree' }],
  ['repository', { phase: 'modified', subject: 'etl', name: 'etl' }],
  ['repository', { phase: 'deleted', subject: 'etl' }],
  ['branch', { phase: 'created', subject: 'feature/joins', repository: 'etl' }],
  ['branch', { phase: 'deleted', subject: 'feature/joins', repository: { id: 'etl' } }],
];

for (const [kind, payload] of hooks) {
  const name = `${kind} ${payload.phase}${payload.level ? ' ' + payload.level : ''}`;
  const dry = postJson(`${d.url}/v1/hooks/${kind}?dry_run=1`, payload);
  const ev = dry.json?.events?.[0];
  const verdict = ev ? ajv(ev) : { valid: false, errors: dry.body };
  t.check(dry.status === 200 && verdict.valid, `dry run of ${name} is valid per ajv`,
    `${dry.status} ${JSON.stringify(verdict.errors)}`);
  const r = postJson(`${d.url}/v1/hooks/${kind}`, payload);
  t.check(r.status === 202 && r.json?.type === ev?.context?.type && Number.isInteger(r.json?.seq),
    `${name} accepted`, `${r.status} ${r.body}`);
}

// The new kinds refuse a wrong phase or field with the hook's pointers.
for (const [kind, payload, pointer] of [
  ['change', { phase: 'approved', subject: 'pr-1' }, '/phase'],
  ['incident', { phase: 'detected', subject: 'inc-8', service: 'etl-job' }, '/environment'],
  ['ticket', { phase: 'closed', subject: 'CHG-2', uri: 'https://jira.example/CHG-2', resolution: 7 }, '/resolution'],
  ['repository', { phase: 'created', subject: 'r', name: 'r', uri: 'not a uri' }, '/uri'],
  ['branch', { phase: 'created', subject: 'b', repository: 7 }, '/repository'],
]) {
  const r = postJson(`${d.url}/v1/hooks/${kind}`, payload);
  t.check(r.status === 400 && r.json?.details?.some((e) => e.pointer === pointer),
    `a bad ${kind} hook is refused at ${pointer}`, `${r.status} ${r.body}`);
}

// A re-sent hook (same source and id) is a duplicate: 200, not stored twice.
const once = { phase: 'started', subject: 'b', id: 'retry-1', source: '/jenkins/job/etl/42' };
const first = postJson(`${d.url}/v1/hooks/build`, once);
const again = postJson(`${d.url}/v1/hooks/build`, once);
t.check(first.status === 202, 'first post of an id is accepted', first.body);
t.check(again.status === 200 && again.json?.duplicate === true && again.json?.id === 'retry-1',
  'a re-sent id answers 200 duplicate', again.body);

// The official conformance examples, posted bare (application/json). They
// share one source and id across different events, which the daemon
// answers 409 (a clash, not a re-send): each is posted as it is to a dry
// run, then stored under an id of its own.
let accepted = 0;
for (const { file, event } of conformanceExamples('v0.5.1')) {
  const dry = postJson(`${d.url}/v1/events?dry_run=1`, event);
  const own = { ...event, context: { ...event.context, id: `conformance-${file}` } };
  const r = postJson(`${d.url}/v1/events`, own);
  if (dry.status === 200 && r.status === 202) accepted++;
  else t.check(false, `conformance ${file}`, `${dry.status} ${r.status} ${r.body}`);
}
t.check(accepted === 45, 'the 45 conformance examples are accepted on /v1/events', String(accepted));
let accepted041 = 0;
for (const { event } of conformanceExamples('v0.4.1')) {
  const r = postJson(`${d.url}/v1/events?dry_run=1`, event);
  if (r.status === 200) accepted041++;
}
t.check(accepted041 === 45, 'v0.4.1 conformance examples are accepted too', String(accepted041));

// A genuine 0.4.0 event (snake_case link fields) is refused by its version,
// with what changed in 0.4.1, instead of an unknown-property error.
{
  const { event } = conformanceExamples('v0.4.1').find(({ file }) => file.endsWith('/artifact_packaged.json'));
  const { chainId, ...context } = event.context;
  const links = context.links.map(({ linkType, target, from, ...l }) => ({
    ...l, link_type: linkType,
    ...(target && { target: { context_id: target.contextId } }),
    ...(from && { from: { context_id: from.contextId } }),
  }));
  const v040 = { ...event, context: { ...context, version: '0.4.0', chain_id: chainId, links } };
  const r = postJson(`${d.url}/v1/events?dry_run=1`, v040);
  const details = r.json?.details ?? [];
  t.check(r.status === 400 && details.length === 1 && details[0].pointer === '/context/version' &&
    details[0].reason.includes('"0.4.0"') && details[0].reason.includes('chain_id') &&
    details[0].reason.includes('send 0.4.1'),
  'a 0.4.0 event is refused naming its version and the renamed fields', `${r.status} ${r.body}`);
}

// Older producers: the Jenkins CDEvents plugin (sdk-java 0.1.2) and spec
// 0.2.0. Accepted as their own release and stored exactly as received.
{
  const old = [
    { context: { version: '0.1.2', id: 'jenkins-etl-7', source: '/jenkins', type: 'dev.cdevents.pipelinerun.started.0.1.0',
      timestamp: '2023-01-01T00:00:00Z' },
    subject: { id: 'job/etl/7', type: 'pipelineRun', source: '/jenkins',
      content: { pipelineName: 'etl', url: 'https://jenkins.example/job/etl/7' } } },
    { context: { version: '0.2.0', id: 'incident-1', source: '/monitoring', type: 'dev.cdevents.incident.detected.0.1.0',
      timestamp: '2023-01-01T00:00:00Z' },
    subject: { id: 'i1', type: 'incident', content: { environment: { id: 'prod' }, description: 'p99 up' } } },
  ];
  for (const event of old) {
    const r = postJson(`${d.url}/v1/events`, event);
    const got = await (await fetch(`${d.url}/v1/events/${encodeURIComponent(event.context.id)}`)).json();
    t.check(r.status === 202 && JSON.stringify(got.events?.[0]?.event) === JSON.stringify(event),
      `a spec ${event.context.version} event is accepted and stored as received`, `${r.status} ${r.body} ${JSON.stringify(got)}`);
  }
}

// The CloudEvents SDK encodes, in binary and structured mode; fetch sends.
for (const mode of ['binary', 'structured']) {
  let ok = 0;
  const examples = conformanceExamples('v0.5.1').slice(0, 10);
  for (const [i, { event }] of examples.entries()) {
    const cdevent = structuredClone(event);
    cdevent.context.id = `${mode}-${i}-${cdevent.context.id}`;
    const ce = new CloudEvent({
      specversion: '1.0', id: cdevent.context.id, source: cdevent.context.source,
      type: cdevent.context.type, subject: cdevent.subject.id, time: cdevent.context.timestamp,
      datacontenttype: 'application/json', data: cdevent,
    });
    const msg = HTTP[mode](ce);
    const res = await fetch(`${d.url}/v1/events`, { method: 'POST', headers: msg.headers, body: msg.body });
    if (res.status === 202) ok++;
    else t.check(false, `SDK ${mode}`, `${res.status} ${await res.text()}`);
  }
  t.check(ok === examples.length, `the CloudEvents SDK in ${mode} mode is accepted`, String(ok));
}

// A batch: two events, one reply listing both.
const batch = conformanceExamples('v0.5.1').slice(0, 2).map(({ event }, i) => {
  const data = structuredClone(event);
  data.context.id = `batch-${i}`;
  return { specversion: '1.0', id: data.context.id, source: data.context.source, type: data.context.type, data };
});
const br = curl(['-X', 'POST', '-H', 'Content-Type: application/cloudevents-batch+json',
  '--data-binary', JSON.stringify(batch), `${d.url}/v1/events`]);
t.check(br.status === 202 && br.json?.events?.length === 2, 'a batch is accepted as a whole', br.body);

t.check(await d.stop() === 0, 'the daemon exits 0 on SIGTERM', d.log());
t.finish();
