// Sizing surfaces against a real daemon: POST /v1/sizing with a cluster
// object and with a cluster named in the config file (-c); mistakes
// answered 400 at their JSON pointer; a deploy hook and a started pipeline
// hook carrying spark and cluster give events that ajv accepts against the
// official schema, with customData.sizing equal to what /v1/sizing answers
// for the same job; `cdevctl sizing` prints the same numbers as a table and
// as JSON, and exits 2 on a bad option.
//
// Expected numbers are worked out by hand (see tests/unit/test_sizing.c for
// the rules): 8g heap -> 0.1*8192=819.2 -> 819 overhead, 9011 MiB; a GKE
// node of 16 CPU and 64Gi keeps 15890m and 59824 MiB allocatable, so 6
// executors fit a node and 10 need 2 nodes with the driver.
//
//   node tests/js/integration/sizing.mjs path/to/cdeventsd path/to/cdevctl
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { spawnSync } from 'node:child_process';
import { startDaemon, postJson, curl, checker, waitForLog } from '../daemon.mjs';
import { oracle } from '../oracle.mjs';

const t = checker();
const [bin, cdevctl] = process.argv.slice(2, 4);
const ajv = oracle('v0.5.1');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-sizing-'));
const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `
clusters:
  prod-gke:
    provider: gke
    nodeCpu: 16
    nodeMemory: 64Gi
    nodes: 10
  small-eks:
    provider: eks
    nodeCpu: 4
    nodeMemory: 16Gi
    maxPods: 29
`);
const d = await startDaemon(bin, ['-c', cfg]);
const gke = { provider: 'gke', nodeCpu: '16', nodeMemory: '64Gi', nodes: 10 };
const job = { sparkVersion: '3.5.1', language: 'jvm', conf: { 'spark.executor.memory': '8g', 'spark.executor.instances': 10 } };
const pointers = (r) => (r.json?.details ?? []).map((e) => e.pointer);

// --- POST /v1/sizing -------------------------------------------------------
const good = postJson(`${d.url}/v1/sizing`, { ...job, cluster: gke });
const s = good.json;
t.check(good.status === 200 && s?.rules === '3.3-3.5', 'POST /v1/sizing answers 200 with the computation', `${good.status} ${good.body}`);
t.check(s?.executor?.heapMiB === 8192 && s?.executor?.overheadMiB === 819 && s?.executor?.memoryRequestMiB === 9011 &&
  s?.executor?.memoryLimitMiB === 9011 && s?.executor?.cpuRequest === 1 && s?.executor?.count === 10,
'the executor pod is 8192 + 819 = 9011 MiB, 1 core, 10 of them', JSON.stringify(s?.executor));
t.check(s?.driver?.memoryRequestMiB === 1408, 'the driver pod is 1024 + 384 = 1408 MiB', JSON.stringify(s?.driver));
t.check(s?.node?.allocatableCpuMillis === 15890 && s?.node?.allocatableMemoryMiB === 59824,
  'a GKE 16 CPU 64Gi node keeps 15890m and 59824 MiB allocatable', JSON.stringify(s?.node));
t.check(s?.executorsPerNode === 6 && s?.nodesNeeded === 2 && s?.fits === true && Array.isArray(s?.warnings),
  '6 executors per node, 2 nodes needed, fits', JSON.stringify(s));

const named = postJson(`${d.url}/v1/sizing`, { ...job, cluster: 'prod-gke' });
t.check(named.status === 200 && isDeepStrictEqual(named.json, s),
  'a cluster named in the config file sizes as the same cluster given inline', named.body);

const eks = postJson(`${d.url}/v1/sizing`, { language: 'jvm', conf: { 'spark.executor.memory': '20g' }, cluster: 'small-eks' });
t.check(eks.status === 200 && eks.json?.fits === false && eks.json?.nodesNeeded === null &&
  eks.json?.warnings?.some((w) => w.code === 'EXECUTOR_POD_UNSCHEDULABLE'),
'a pod larger than a node is an answer: fits false, EXECUTOR_POD_UNSCHEDULABLE', eks.body);

const noCluster = postJson(`${d.url}/v1/sizing`, { language: 'python', conf: {} });
t.check(noCluster.status === 200 && noCluster.json?.fits === null && !('node' in (noCluster.json ?? {})),
  'without a cluster, fits is null and there are no node facts', noCluster.body);

const bad = postJson(`${d.url}/v1/sizing`, { language: 'jvm', conf: { 'spark.executor.memory': '8Gi' }, cluster: 'prod' });
t.check(bad.status === 400 && bad.json?.error && pointers(bad).includes('/conf/spark.executor.memory') &&
  pointers(bad).includes('/cluster'), 'bad input is 400 with every mistake at its pointer', bad.body);
t.check(bad.json?.details?.some((e) => e.pointer === '/cluster' && /no cluster named "prod".*prod-gke, small-eks/.test(e.reason)),
  'an unknown cluster name lists the known ones', bad.body);
const missing = postJson(`${d.url}/v1/sizing`, { conf: {}, cluster: { provider: 'eks', nodeCpu: 4, nodeMemory: '16Gi' } });
t.check(missing.status === 400 && pointers(missing).includes('/language') && pointers(missing).includes('/cluster/maxPods'),
  'a missing language and an EKS cluster without maxPods are named', missing.body);
const dup = postJson(`${d.url}/v1/sizing`, '{"language": "jvm", "conf": {}, "conf": {}}');
t.check(dup.status === 400, 'a duplicate key is refused by the strict JSON parser', dup.body);
t.check(curl([`${d.url}/v1/sizing`]).status === 405, 'GET /v1/sizing is 405');
const plain = curl(['-X', 'POST', '-H', 'Content-Type: text/plain', '--data-binary', '{}', `${d.url}/v1/sizing`]);
t.check(plain.status === 415, 'a body that is not application/json is 415', `${plain.status}`);

// --- hooks ------------------------------------------------------------------
async function stored(id) {
  const r = await fetch(`${d.url}/v1/events/${encodeURIComponent(id)}`);
  return r.status === 200 ? (await r.json()).events[0].event : null;
}

const deploy = postJson(`${d.url}/v1/hooks/deploy`, {
  phase: 'deployed', subject: 'etl-job', environment: 'prod', artifactId: 'pkg:oci/etl@sha256%3Aabc',
  customData: { team: 'data' },
  spark: { sparkVersion: '3.5.1', conf: job.conf }, cluster: gke,
});
t.check(deploy.status === 202, 'a deploy hook with spark and cluster is accepted', `${deploy.status} ${deploy.body}`);
const ev = deploy.json ? await stored(deploy.json.id) : null;
const verdict = ev ? ajv(ev) : { valid: false, errors: 'not stored' };
t.check(verdict.valid, 'its service.deployed event is valid per ajv and the official schema', JSON.stringify(verdict.errors));
t.check(isDeepStrictEqual(ev?.customData?.sizing, s) && ev?.customData?.team === 'data',
  'customData.sizing is what /v1/sizing answers, beside the hook\'s own customData', JSON.stringify(ev?.customData));

const pipe = postJson(`${d.url}/v1/hooks/pipeline`, {
  phase: 'started', subject: 'run-7', pipelineName: 'etl-release', uri: 'https://tekton.example/run-7',
  spark: { conf: job.conf }, cluster: 'prod-gke',
});
const pev = pipe.json ? await stored(pipe.json.id) : null;
const expectJvm = postJson(`${d.url}/v1/sizing`, { language: 'jvm', conf: job.conf, cluster: 'prod-gke' }).json;
t.check(pipe.status === 202 && pev && ajv(pev).valid && isDeepStrictEqual(pev.customData?.sizing, expectJvm),
  'a started pipeline hook with a named cluster carries the same sizing (language defaults to jvm)', pipe.body);

const badHook = postJson(`${d.url}/v1/hooks/deploy`, {
  phase: 'deployed', subject: 'etl-job', environment: 'prod', artifactId: 'a',
  spark: { conf: { 'spark.executor.memory': '8Gi' } }, cluster: { provider: 'gke', nodeCpu: 16 },
});
t.check(badHook.status === 400 && pointers(badHook).includes('/spark/conf/spark.executor.memory') &&
  pointers(badHook).includes('/cluster/nodeMemory'), 'bad spark and cluster in a hook are 400 at the hook\'s pointers', badHook.body);
const taken = postJson(`${d.url}/v1/hooks/deploy`, {
  phase: 'deployed', subject: 'etl-job', environment: 'prod', artifactId: 'a',
  spark: { conf: {} }, customData: { sizing: 'mine' },
});
t.check(taken.status === 400 && pointers(taken).includes('/customData/sizing'), 'a hook\'s own customData.sizing is refused', taken.body);
const finished = postJson(`${d.url}/v1/hooks/pipeline`, { phase: 'finished', subject: 'run-7', spark: { conf: {} } });
t.check(finished.status === 400 && pointers(finished).includes('/spark'), 'a finished pipeline takes no spark', finished.body);

// --- cdevctl sizing ---------------------------------------------------------
const cli = (args) => spawnSync(cdevctl, ['sizing', ...args], { encoding: 'utf8' });
const jobArgs = ['--conf', 'spark.executor.memory=8g', '--conf', 'spark.executor.instances=10', '--spark-version', '3.5.1'];
const table = cli([...jobArgs, '--provider', 'gke', '--node', '16,64Gi', '--nodes', '10']);
t.check(table.status === 0 && /^executor\s+8192 MiB\s+819 MiB \(x0\.1\)\s+0 MiB\s+9011 MiB\s+1\s+-\s+yes$/m.test(table.stdout) &&
  /^driver\s+1024 MiB\s+384 MiB/m.test(table.stdout) && /allocatable 15\.89 CPU, 59824 MiB/.test(table.stdout) &&
  /^executors per node\s+6/m.test(table.stdout) && /^nodes needed\s+2 of 10$/m.test(table.stdout) &&
  /^fits\s+yes$/m.test(table.stdout), 'cdevctl sizing prints the table with the same numbers', table.stdout + table.stderr);
const asJson = cli([...jobArgs, '--provider', 'gke', '--node', '16,64Gi', '--nodes', '10', '--json']);
let parsed = null;
try { parsed = JSON.parse(asJson.stdout); } catch { /* reported below */ }
t.check(asJson.status === 0 && isDeepStrictEqual(parsed, s), 'cdevctl sizing --json is what /v1/sizing answers', asJson.stdout);
const byName = cli([...jobArgs, '--cluster', 'prod-gke', '-c', cfg, '--json']);
let parsedByName = null;
try { parsedByName = JSON.parse(byName.stdout); } catch { /* reported below */ }
t.check(byName.status === 0 && isDeepStrictEqual(parsedByName, s), 'cdevctl sizing --cluster NAME -c FILE reads the same cluster', byName.stdout + byName.stderr);
const tooBig = cli(['--conf', 'spark.executor.memory=20g', '--provider', 'eks', '--node', '4,16Gi', '--max-pods', '29']);
t.check(tooBig.status === 0 && /^fits\s+NO: an executor pod is larger/m.test(tooBig.stdout) && /EXECUTOR_POD_UNSCHEDULABLE/.test(tooBig.stdout),
  'a job that does not fit exits 0 and says NO with the warning code', tooBig.stdout);
const badConf = cli(['--conf', 'spark.executor.memory=8Gi']);
t.check(badConf.status === 2 && /--conf spark\.executor\.memory: "8Gi" is not a Spark size/.test(badConf.stderr),
  'a bad --conf exits 2 naming the option', badConf.stderr);
const badNode = cli(['--provider', 'gke', '--node', '16']);
t.check(badNode.status === 2 && /--node 16: give CPU,MEMORY/.test(badNode.stderr), 'a bad --node exits 2 naming the option', badNode.stderr);
const noProvider = cli(['--node', '16,64Gi']);
t.check(noProvider.status === 2 && /--provider: required/.test(noProvider.stderr), '--node without --provider exits 2', noProvider.stderr);
const unknownOpt = cli(['--colour', 'red']);
t.check(unknownOpt.status === 2 && /usage: cdevctl sizing/.test(unknownOpt.stderr), 'an unknown option exits 2 with the usage', unknownOpt.stderr);

// --- SIGHUP: new clusters apply to new requests ------------------------------
fs.writeFileSync(cfg, 'clusters:\n  big-gke: {provider: gke, nodeCpu: 64, nodeMemory: 256Gi}\n');
d.proc.kill('SIGHUP');
await waitForLog(d, 'configuration reloaded');
const after = postJson(`${d.url}/v1/sizing`, { language: 'jvm', conf: {}, cluster: 'big-gke' });
const gone = postJson(`${d.url}/v1/sizing`, { language: 'jvm', conf: {}, cluster: 'prod-gke' });
t.check(after.status === 200 && after.json?.fits === true && gone.status === 400 && pointers(gone).includes('/cluster'),
  'after SIGHUP the reloaded clusters are the ones named', `${after.body} ${gone.body}`);

t.check(await d.stop() === 0, 'the daemon stops cleanly', d.log().slice(-500));
fs.rmSync(dir, { recursive: true });
t.finish();
