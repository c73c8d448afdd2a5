// Pod outcomes against a real daemon: each fixture of tests/data/pods (as
// `kubectl get pod -o json` prints it) posted with curl to
// /v1/hooks/pod gives 202 and events that ajv accepts against the official
// schema, read back with GET /v1/events/{id}; the dry run shows the same;
// a List of pods, a wrapped pod with a Spark conf and a cluster (named in
// the config file too), a re-sent pod (200 duplicate) and the chain the
// incident joins; bad input answers 400 at its JSON pointer.
//
//   node tests/js/integration/pods.mjs path/to/cdeventsd
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, postJson, curl, checker } from '../daemon.mjs';
import { oracle } from '../oracle.mjs';

const t = checker();
const ajv = oracle('v0.5.1');
const srcDir = process.env.CDE_SOURCE_DIR ||
  path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const podsDir = path.join(srcDir, 'tests', 'data', 'pods');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-pods-'));
const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `
clusters:
  prod-gke:
    provider: gke
    nodeCpu: 16
    nodeMemory: 64Gi
    nodes: 5
`);
const d = await startDaemon(process.argv[2], ['-c', cfg]);
const hook = `${d.url}/v1/hooks/pod`;
const load = (f) => JSON.parse(fs.readFileSync(path.join(podsDir, f), 'utf8'));
const pointers = (r) => (r.json?.details ?? []).map((e) => e.pointer);

// fixture -> the reason the incident names (null: no incident).
const expected = {
  'succeeded.json': null,
  'running.json': null,
  'pending-container-creating.json': null,
  'error-exit-1.json': 'Error',
  'failed-start-error.json': 'Failed',
  'oomkilled-executor.json': 'OOMKilled',
  'oomkilled-driver.json': 'OOMKilled',
  'image-pull-backoff.json': 'ImagePullBackOff',
  'err-image-pull.json': 'ErrImagePull',
  'crash-loop-backoff.json': 'CrashLoopBackOff',
  'create-container-config-error.json': 'CreateContainerConfigError',
  'unschedulable-memory.json': 'Unschedulable',
  'unschedulable-cpu.json': 'Unschedulable',
  'unschedulable-taint.json': 'Unschedulable',
  'evicted-ephemeral-storage.json': 'Evicted',
  'evicted-memory.json': 'Evicted',
  'deadline-exceeded.json': 'DeadlineExceeded',
  'init-container-error.json': 'Error',
  'spark-exit-52.json': 'Error',
  'unknown-node-lost.json': 'Unknown',
};
const files = fs.readdirSync(podsDir).filter((f) => f.endsWith('.json') && f !== 'not-a-pod-deployment.json').sort();
t.check(files.length === Object.keys(expected).length && files.every((f) => f in expected),
  'every fixture has an expected outcome', files.join(' '));

function valid(ev, name) {
  const v = ajv(ev);
  t.check(v.valid, `${name}: ${ev?.context?.type} is valid per ajv`, JSON.stringify(v.errors));
}

// The way a Tekton step or a Jenkins post block sends it:
//   kubectl get pod "$POD" -o json | curl --data-binary @- -H 'Content-Type: application/json' ...
function postFile(file, query = '') {
  return curl(['-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary',
    `@${path.join(podsDir, file)}`, `${hook}${query}`]);
}

const ids = {};
for (const f of files) {
  const reason = expected[f];
  const dry = postFile(f, '?dry_run=1');
  const evs = dry.json?.events ?? [];
  t.check(dry.status === 200 && evs.length === (reason ? 2 : 1), `${f}: dry run gives ${reason ? 2 : 1} events`,
    `${dry.status} ${dry.body.slice(0, 300)}`);
  for (const ev of evs) valid(ev, `${f} (dry run)`);
  if (reason) {
    const po = evs[1]?.customData?.podOutcome;
    t.check(po?.reason === reason && typeof po?.remedy?.text === 'string' && po.remedy.text.length > 20 &&
      typeof po?.remedy?.action === 'string', `${f}: the incident says ${reason} and what to do`, JSON.stringify(po));
    t.check(['failure', 'error'].includes(evs[0]?.subject?.content?.outcome) && evs[0]?.subject?.content?.errors,
      `${f}: the task run failed with errors`, JSON.stringify(evs[0]?.subject?.content));
  }

  const r = postFile(f);
  const accepted = r.json?.events ?? (r.json ? [r.json] : []);
  t.check(r.status === 202 && accepted.length === evs.length, `${f}: accepted (202)`, `${r.status} ${r.body}`);
  ids[f] = accepted.map((a) => a.id);
  for (const a of accepted) {
    const rec = curl([`${d.url}/v1/events/${encodeURIComponent(a.id)}`]).json?.events?.[0];
    t.check(rec?.event?.context?.type === a.type, `${f}: GET /v1/events/${a.id} returns it`, JSON.stringify(rec)?.slice(0, 200));
    if (rec) valid(rec.event, `${f} (stored)`);
  }
}

// Specific facts of the OOMKilled executor, read back from the store.
{
  const [trId, incId] = ids['oomkilled-executor.json'];
  const tr = curl([`${d.url}/v1/events/${encodeURIComponent(trId)}`]).json?.events?.[0]?.event;
  const inc = curl([`${d.url}/v1/events/${encodeURIComponent(incId)}`]).json?.events?.[0]?.event;
  const po = inc?.customData?.podOutcome;
  t.check(tr?.subject?.id === 'spark-jobs/etl-daily-7f3e1c9a2b-exec-3' && tr?.subject?.content?.taskName === 'etl-daily' &&
    tr?.subject?.content?.outcome === 'failure' && tr?.context?.timestamp === '2025-03-14T02:23:41Z',
  'the task run: namespace/name, the Spark app as task name, the time the container died', JSON.stringify(tr));
  t.check(po?.container === 'spark-kubernetes-executor' && po?.exitCode === 137 && po?.sparkRole === 'executor' &&
    po?.sparkApp === 'etl-daily' && po?.remedy?.key === 'spark.executor.memoryOverhead' && po?.remedy?.value === '818m' &&
    po?.remedy?.sizing?.derivedFromPod === true && /container|limit/.test(po?.remedy?.text),
  'the incident: container, exit code, Spark role and app, overhead to set derived from the pod', JSON.stringify(po));
  t.check(inc?.subject?.content?.environment?.id === 'spark-jobs' && /^pkg:oci\/etl@sha256%3A[0-9a-f]{64}$/.test(inc?.subject?.content?.artifactId),
    'the incident: environment from the namespace, artifact from the image digest', JSON.stringify(inc?.subject?.content));
  t.check(inc?.context?.links?.some((l) => l.linkType === 'RELATION' && l.target?.contextId === trId),
    'the incident links to the task run', JSON.stringify(inc?.context?.links));
}

// Chains without a chainId: the incident joins the chain of its artifact
// (the image digest) when one has it, else the task run's (a new Spark
// app's executor: a pod name of its own). A pod name seen before whose
// chain names another image is not the new image's chain.
{
  const chainOf = (id) => curl([`${d.url}/v1/events/${encodeURIComponent(id)}`]).json?.events?.[0]?.event?.context?.chainId;
  const fresh = load('oomkilled-executor.json');
  fresh.metadata.uid = 'chain-1';
  fresh.metadata.name = 'etl-daily-5c1d0e8f4a-exec-3';
  fresh.status.containerStatuses[0].imageID = `registry.example.com/data/etl@sha256:${'c'.repeat(64)}`;
  const r = postJson(hook, fresh);
  const [trId, incId] = (r.json?.events ?? []).map((e) => e.id);
  t.check(r.status === 202 && chainOf(incId) && chainOf(incId) === chainOf(trId),
    'a new artifact: the incident joins the task run\'s chain', `${r.body} ${chainOf(incId)} ${chainOf(trId)}`);
  const renamed = load('oomkilled-executor.json');
  renamed.metadata.uid = 'chain-1b';
  renamed.status.containerStatuses[0].imageID = `registry.example.com/data/etl@sha256:${'e'.repeat(64)}`;
  const rb = postJson(hook, renamed);
  const firstChain = chainOf(ids['oomkilled-executor.json'][1]);
  t.check(rb.status === 202 && firstChain && chainOf(rb.json?.events?.[1]?.id) !== firstChain,
    'a new artifact on a pod name seen before: the incident does not join the chain naming the earlier image',
    `${rb.body} ${firstChain}`);
  const deploy = postJson(`${d.url}/v1/hooks/deploy`, { phase: 'deployed', subject: 'etl-daily', environment: 'prod',
    artifactId: `pkg:oci/etl@sha256%3A${'d'.repeat(64)}`, chainId: 'release-77' });
  const second = load('oomkilled-executor.json');
  second.metadata.uid = 'chain-2';
  second.status.containerStatuses[0].imageID = `registry.example.com/data/etl@sha256:${'d'.repeat(64)}`;
  const r2 = postJson(hook, second);
  t.check(deploy.status === 202 && r2.status === 202 && chainOf(r2.json?.events?.[1]?.id) === 'release-77',
    'a deployed artifact: the incident joins the release\'s chain', `${deploy.body} ${r2.body}`);
}

// Posted again (curl --retry, a re-run post block): the same ids, 200.
{
  const again = postFile('oomkilled-executor.json');
  t.check(again.status === 200 && again.json?.events?.every((e) => e.duplicate === true),
    'the same pod posted again is a duplicate (200)', `${again.status} ${again.body}`);
}

// A List, as `kubectl get pods -l spark-app-selector=... -o json` prints it.
{
  const list = { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' },
    items: ['succeeded.json', 'oomkilled-executor.json', 'running.json', 'evicted-memory.json'].map(load) };
  for (const p of list.items) p.metadata.uid = `list-${p.metadata.uid}`;
  const dry = postJson(`${hook}?dry_run=1`, list);
  t.check(dry.status === 200 && dry.json?.events?.length === 6, 'a List of 4 pods gives 6 events', `${dry.status} ${dry.body.slice(0, 300)}`);
  for (const ev of dry.json?.events ?? []) valid(ev, 'List');
  const r = postJson(hook, list);
  t.check(r.status === 202 && r.json?.events?.length === 6, 'the List is accepted (202)', `${r.status} ${r.body.slice(0, 300)}`);
  // The same pods again with one more (the next poll of a step): the known
  // ones are duplicates whatever their status says now, the new one is
  // stored; a pod's event id stands for the observation, never a clash.
  const more = load('error-exit-1.json');
  more.metadata.uid = 'list-more';
  list.items[2].status.containerStatuses = [];
  const r2 = postJson(hook, { ...list, items: [...list.items, more] });
  t.check(r2.status === 202 && r2.json?.events?.filter((e) => e.duplicate).length === 6 &&
    r2.json?.events?.filter((e) => Number.isInteger(e.seq)).length === 2,
  'a List posted again with one more pod stores the new pod and calls the rest duplicates', `${r2.status} ${r2.body.slice(0, 400)}`);
}

// Wrapped: environment, pipeline run, chain, the Spark conf and a cluster.
{
  const pod = load('oomkilled-executor.json');
  pod.metadata.uid = 'wrapped-1';
  const body = { pod, environment: 'prod', pipelineRun: 'etl-release-run-42', chainId: 'release-42',
    spark: { sparkVersion: '3.5.1', conf: { 'spark.executor.memory': '4g', 'spark.executor.cores': 4 } },
    cluster: { provider: 'gke', nodeCpu: '16', nodeMemory: '64Gi', nodes: 5 } };
  const r = postJson(`${hook}?dry_run=1`, body);
  const [tr, inc] = r.json?.events ?? [];
  const sz = inc?.customData?.podOutcome?.remedy?.sizing;
  t.check(r.status === 200 && tr?.subject?.content?.pipelineRun?.id === 'etl-release-run-42' &&
    inc?.subject?.content?.environment?.id === 'prod' && tr?.context?.chainId === 'release-42' && inc?.context?.chainId === 'release-42',
  'the wrapper\'s environment, pipeline run and chain go to the events', `${r.status} ${r.body.slice(0, 400)}`);
  t.check(sz?.value === '818m' && sz?.newMemoryRequestMiB === 4914 && sz?.fitsNode === true && sz?.executorsPerNode === 3 &&
    sz?.derivedFromPod === false, 'with spark and cluster, the sizing says the new pod still fits (3 per node)', JSON.stringify(sz));
  for (const ev of r.json?.events ?? []) valid(ev, 'wrapped');

  // The same with the cluster named in the configuration.
  const named = postJson(`${hook}?dry_run=1`, { ...body, cluster: 'prod-gke' });
  t.check(named.status === 200 && named.json?.events?.[1]?.customData?.podOutcome?.remedy?.sizing?.fitsNode === true,
    'a cluster named in the configuration works too', `${named.status} ${named.body.slice(0, 300)}`);

  // Unschedulable: the heap that would fit and the node that would.
  const big = { pod: load('unschedulable-memory.json'),
    spark: { conf: { 'spark.executor.memory': '56g', 'spark.executor.cores': 4 } }, cluster: 'prod-gke' };
  const u = postJson(`${hook}?dry_run=1`, big);
  const rem = u.json?.events?.[1]?.customData?.podOutcome?.remedy;
  t.check(u.status === 200 && rem?.action === 'lower_request' && rem?.key === 'spark.executor.memory' && rem?.value === '54386m' &&
    rem?.allocatable === '59824Mi' && rem?.fitsEmptyNode === false && rem?.nodeThatFits?.memory === '128Gi',
  'an unschedulable executor gets the heap that fits and the node size that would', JSON.stringify(rem));
}

// Bad input: 400 with the pointer to fix.
{
  const dep = postFile('not-a-pod-deployment.json');
  t.check(dep.status === 400 && pointers(dep).includes('/kind'), 'a Deployment is refused at /kind', `${dep.status} ${dep.body}`);

  const noName = load('running.json');
  delete noName.metadata.name;
  const r1 = postJson(hook, noName);
  t.check(r1.status === 400 && pointers(r1).includes('/metadata/name'), 'a pod without a name is refused at /metadata/name', r1.body);

  const num = load('running.json');
  num.status.containerStatuses[0].state = 42;
  const r2 = postJson(hook, num);
  t.check(r2.status === 400 && pointers(r2).includes('/status/containerStatuses/0/state'),
    'a number where an object belongs is refused at its pointer', r2.body);

  const list = { kind: 'List', items: [load('running.json'), { ...load('succeeded.json'), status: 'done' }] };
  const r3 = postJson(hook, list);
  t.check(r3.status === 400 && pointers(r3).includes('/items/1/status'), 'a bad pod in a List is refused at /items/1/status', r3.body);

  const r4 = postJson(hook, { pod: load('running.json'), colour: 'red', spark: { conf: { 'spark.executor.memory': 'lots' } } });
  t.check(r4.status === 400 && pointers(r4).includes('/colour') && pointers(r4).includes('/spark/conf/spark.executor.memory'),
    'wrapper mistakes are refused at their pointers', r4.body);

  const r5 = postJson(hook, { pod: load('running.json'), cluster: 'nowhere' });
  t.check(r5.status === 400 && pointers(r5).includes('/cluster'), 'an unknown cluster name is refused at /cluster', r5.body);

  const r6 = curl(['-X', 'POST', '--data-binary', `@${path.join(podsDir, 'running.json')}`, hook]);
  t.check(r6.status === 415, 'without Content-Type: application/json the hook answers 415', `${r6.status} ${r6.body}`);

  const unknown = postJson(`${d.url}/v1/hooks/pods`, {});
  t.check(unknown.status === 404 && /pod/.test(unknown.body), 'the 404 for an unknown kind lists pod', unknown.body);
}

await d.stop();
fs.rmSync(dir, { recursive: true });
t.finish();
