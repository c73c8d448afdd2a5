// The integration kit (config/examples/): every manifest parses (the yaml
// package, every document), has the kind, apiVersion and fields it should,
// and agrees with the others (names, URLs, ports, paths, Secrets). Then the
// examples run against a real daemon on loopback started with the
// ConfigMap's own cdeventsd.yaml (token paths and the EventListener's URL
// pointed at temporary files and a local receiver), so authentication is
// required:
//
// - the Tekton Task is resolved as Tekton would (params and their defaults,
//   context variables, stepTemplate and step env, secretKeyRef from the
//   Secret) and each step's script runs with the interpreter of its
//   shebang; the Kubernetes API its pod step reads is a fake on loopback
//   serving tests/data/pods fixtures, its service-account mount a temp dir;
// - the StepAction likewise, with a JSON payload, an @FILE payload and a
//   payload cdeventsd refuses (the step must fail and show why);
// - the Jenkinsfile's environment block is evaluated (credentials() gives
//   the jenkins token) and every `sh '''...'''` runs with sh -eu after
//   Groovy's escape processing, kubectl being a stub that prints fixtures;
//   once as a successful build, once as a failed one.
//
// - the README's five-minute walkthrough: its hooks run against a daemon
//   on the embedded default (as `make run` starts it), and the chain, the
//   metrics and the remedy it shows are the ones the daemon gives.
//
// Every curl must get 2xx; every event they produce is read back with
// GET /v1/events/{id} and must pass ajv on the official v0.5.1 schemas;
// each release's chain holds what it should. The EventListener's CEL
// filter is evaluated on the headers the tekton sink really sent, its
// literal compared with the received Ce-Type, and the TriggerBinding's
// paths resolved on the body received.
//
//   node tests/js/integration/kit.mjs path/to/cdeventsd [path/to/cdevctl]
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { startDaemon, curl, checker, waitFor } from '../daemon.mjs';
import { oracle } from '../oracle.mjs';

const t = checker();
const bin = process.argv[2];
const ajv = oracle('v0.5.1');
const srcDir = process.env.CDE_SOURCE_DIR ||
  path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const examples = path.join(srcDir, 'config', 'examples');
const podsDir = path.join(srcDir, 'tests', 'data', 'pods');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-kit-'));
const short = (s, n = 600) => (s.length > n ? s.slice(0, n) + '...' : s);

// --- 1. every YAML file parses, every document is a known kind ------------
const expectedApi = {
  Namespace: 'v1', ConfigMap: 'v1', Secret: 'v1', Service: 'v1', ServiceAccount: 'v1',
  PersistentVolumeClaim: 'v1', Deployment: 'apps/v1',
  Role: 'rbac.authorization.k8s.io/v1', RoleBinding: 'rbac.authorization.k8s.io/v1',
  ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
  Kustomization: 'kustomize.config.k8s.io/v1beta1',
  Task: 'tekton.dev/v1', StepAction: 'tekton.dev/v1beta1',
  EventListener: 'triggers.tekton.dev/v1beta1', TriggerBinding: 'triggers.tekton.dev/v1beta1',
  TriggerTemplate: 'triggers.tekton.dev/v1beta1',
};
// kubernetes-replicated/ is a kustomize overlay of kubernetes/ (two
// replicas on PostgreSQL): its patches are checked on their own below.
const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? (e.name === 'kubernetes-replicated' ? [] : walk(path.join(d, e.name))) : [path.join(d, e.name)]);
const files = walk(examples).sort();
const yamlFiles = files.filter((f) => /\.ya?ml$/.test(f));
const docs = [];   // {file, kind, doc}
for (const f of yamlFiles) {
  const rel = path.relative(examples, f);
  const parsed = parseAllDocuments(fs.readFileSync(f, 'utf8'), { prettyErrors: true, uniqueKeys: true });
  const problems = parsed.flatMap((d) => [...d.errors, ...d.warnings].map(String));
  t.check(problems.length === 0, `${rel} parses as YAML`, problems.join('\n'));
  for (const d of parsed) {
    const doc = d.toJS();
    if (doc === null || doc === undefined) continue;
    docs.push({ file: rel, kind: doc.kind, doc });
    t.check(doc.kind in expectedApi && doc.apiVersion === expectedApi[doc.kind],
      `${rel}: ${doc.kind} has apiVersion ${expectedApi[doc.kind]}`, `${doc.kind} ${doc.apiVersion}`);
    t.check(doc.kind === 'Kustomization' || (typeof doc.metadata?.name === 'string' && doc.metadata.name),
      `${rel}: ${doc.kind} has a name`);
  }
}
const all = (kind) => docs.filter((d) => d.kind === kind).map((d) => d.doc);
const one = (kind) => {
  const list = all(kind);
  t.check(list.length === 1, `exactly one ${kind} in config/examples`, `${list.length}`);
  return list[0] ?? {};
};
for (const k of ['Deployment', 'Service', 'ConfigMap', 'PersistentVolumeClaim', 'Task', 'StepAction',
  'EventListener', 'TriggerBinding', 'TriggerTemplate'])
  t.check(all(k).length >= 1, `config/examples has a ${k}`);
t.check(files.some((f) => path.basename(f) === 'Jenkinsfile'), 'config/examples has a Jenkinsfile');

// --- 2. the Kubernetes manifests: fields and cross-references --------------
const kust = one('Kustomization');
const kdir = path.join(examples, 'kubernetes');
const kfiles = fs.readdirSync(kdir).filter((f) => /\.ya?ml$/.test(f) && !/^kustomization\.ya?ml$/.test(f)).sort();
t.check(JSON.stringify([...(kust.resources ?? [])].sort()) === JSON.stringify(kfiles),
  'the kustomization lists every manifest of kubernetes/', `${kust.resources} vs ${kfiles}`);
const ns = kust.namespace;
const deploy = one('Deployment');
const service = one('Service');
const cm = one('ConfigMap');
const pvc = one('PersistentVolumeClaim');
const daemonSecret = all('Secret').find((s) => s.metadata.name === 'cdeventsd-tokens') ?? {};
const podSpec = deploy.spec?.template?.spec ?? {};
const ctr = podSpec.containers?.[0] ?? {};
const port = ctr.ports?.find((p) => p.name === 'http');
t.check(deploy.spec?.replicas === 1 && deploy.spec?.strategy?.type === 'Recreate',
  'Deployment: one replica, Recreate (the SQLite journal on a ReadWriteOnce volume)');
t.check(ctr.readinessProbe?.httpGet?.path === '/readyz' && ctr.livenessProbe?.httpGet?.path === '/healthz',
  'Deployment: readiness probes /readyz, liveness /healthz');
t.check([ctr.readinessProbe?.httpGet?.port, ctr.livenessProbe?.httpGet?.port].every((p) => p === 'http' || p === port?.containerPort),
  'Deployment: the probes use the container port');
t.check(podSpec.securityContext?.runAsNonRoot === true && ctr.securityContext?.readOnlyRootFilesystem === true &&
  ctr.securityContext?.allowPrivilegeEscalation === false &&
  (ctr.securityContext?.capabilities?.drop ?? []).includes('ALL'),
  'Deployment: non-root, read-only root file system, no privilege escalation, no capabilities');
t.check(podSpec.terminationGracePeriodSeconds >= 30, 'Deployment: grace period covers the 30 s drain');
const volume = (kindKey) => podSpec.volumes?.find((v) => v[kindKey]);
const mountOf = (v) => ctr.volumeMounts?.find((m) => m.name === v?.name);
const cmVol = volume('configMap'), secretVol = volume('secret'), pvcVol = volume('persistentVolumeClaim');
t.check(cmVol?.configMap?.name === cm.metadata?.name, 'Deployment mounts the ConfigMap');
t.check(secretVol?.secret?.secretName === daemonSecret.metadata?.name, 'Deployment mounts the token Secret');
t.check(pvcVol?.persistentVolumeClaim?.claimName === pvc.metadata?.name, 'Deployment mounts the PVC');
t.check(JSON.stringify(pvc.spec?.accessModes) === '["ReadWriteOnce"]' && pvc.spec?.resources?.requests?.storage,
  'PVC: ReadWriteOnce with a size');
const cfgArg = ctr.args?.[ctr.args.indexOf('-c') + 1];
const cfgKey = Object.keys(cm.data ?? {})[0];
t.check(mountOf(cmVol) && !mountOf(cmVol).subPath && cfgArg === `${mountOf(cmVol).mountPath}/${cfgKey}`,
  'the daemon reads the ConfigMap key where it is mounted (a directory: edits reach the pod)', cfgArg);
t.check(JSON.stringify(service.spec?.selector) === JSON.stringify(deploy.spec?.selector?.matchLabels) &&
  Object.entries(service.spec?.selector ?? {}).every(([k, v]) => deploy.spec.template.metadata.labels[k] === v),
  'the Service selects the Deployment\'s pods');
const svcPort = service.spec?.ports?.[0];
t.check(svcPort?.targetPort === 'http' || svcPort?.targetPort === port?.containerPort, 'the Service targets the http port');

const cfgText = cm.data?.[cfgKey] ?? '';
const [cfgDoc] = parseAllDocuments(cfgText).map((d) => d.toJS());
t.check(cfgDoc?.listen === `0.0.0.0:${port?.containerPort}`, 'cdeventsd.yaml listens on every address, on the container port', cfgDoc?.listen);
t.check(cfgDoc?.state_dir === mountOf(pvcVol)?.mountPath, 'state_dir is where the PVC is mounted');
const principals = cfgDoc?.principals ?? [];
t.check(principals.length > 0 && principals.every((p) => p.token_file && !p.token), 'principals take tokens from files');
t.check(principals.every((p) => path.dirname(p.token_file) === mountOf(secretVol)?.mountPath &&
  Object.keys(daemonSecret.stringData ?? daemonSecret.data ?? {}).includes(path.basename(p.token_file))),
  'every token_file is a key of the Secret, where it is mounted');
const el = one('EventListener');
const tektonSink = (cfgDoc?.sinks ?? []).find((s) => s.type === 'tekton');
t.check(tektonSink?.url === `http://el-${el.metadata?.name}.${el.metadata?.namespace}.svc:8080`,
  'the tekton sink posts to the EventListener\'s service', tektonSink?.url);
const daemonUrl = `http://${service.metadata?.name}.${ns}.svc:${svcPort?.port}`;

// --- 3. the Tekton and Triggers manifests ----------------------------------
const task = one('Task');
const stepAction = one('StepAction');
const binding = one('TriggerBinding');
const template = one('TriggerTemplate');
const tektonSecret = all('Secret').find((s) => s.metadata.namespace === task.metadata?.namespace) ?? {};
const paramDefault = (spec, name) => spec.params?.find((p) => p.name === name)?.default;
for (const [what, spec] of [['Task', task.spec ?? {}], ['StepAction', stepAction.spec ?? {}]]) {
  t.check(paramDefault(spec, 'cdeventsd-url') === daemonUrl, `${what}: cdeventsd-url defaults to the Service`, paramDefault(spec, 'cdeventsd-url'));
  t.check(paramDefault(spec, 'token-secret') === tektonSecret.metadata?.name &&
    paramDefault(spec, 'token-key') in (tektonSecret.stringData ?? {}), `${what}: the token comes from the Secret of tekton/`);
}
t.check(tektonSecret.stringData?.token === daemonSecret.stringData?.tekton,
  'the Tekton Secret holds the daemon\'s tekton token (placeholders agree)');
t.check(stepAction.spec?.image?.startsWith('docker.io/curlimages/curl:') &&
  (task.spec?.stepTemplate?.image ?? '').startsWith('docker.io/curlimages/curl:'), 'the steps use curlimages/curl');
t.check(paramDefault(task.spec ?? {}, 'cluster') in (cfgDoc?.clusters ?? {}), 'the Task\'s default cluster is configured');
t.check(el.spec?.triggers?.[0]?.bindings?.[0]?.ref === binding.metadata?.name &&
  el.spec?.triggers?.[0]?.template?.ref === template.metadata?.name, 'the EventListener names the binding and the template');
t.check(JSON.stringify(binding.spec.params.map((p) => p.name).sort()) === JSON.stringify(template.spec.params.map((p) => p.name).sort()),
  'the binding gives exactly the template\'s params');
const ttUsed = [...JSON.stringify(template.spec.resourcetemplates).matchAll(/\$\(tt\.params\.([\w-]+)\)/g)].map((m) => m[1]);
t.check(ttUsed.length > 0 && ttUsed.every((p) => template.spec.params.some((q) => q.name === p)),
  'the template uses only its declared params');
t.check(template.spec.resourcetemplates?.[0]?.kind === 'PipelineRun' && template.spec.resourcetemplates[0].apiVersion === 'tekton.dev/v1',
  'the template creates a tekton.dev/v1 PipelineRun');
const celParam = el.spec?.triggers?.[0]?.interceptors?.[0];
t.check(celParam?.ref?.name === 'cel', 'the EventListener filters with the CEL interceptor');
const celFilter = celParam?.params?.find((p) => p.name === 'filter')?.value ?? '';

// --- 4. the daemon, with the ConfigMap's configuration ----------------------
const tokens = {
  tekton: crypto.randomBytes(24).toString('hex'),
  jenkins: crypto.randomBytes(24).toString('hex'),
  reader: crypto.randomBytes(24).toString('hex'),
};
const tokenDir = path.join(dir, 'tokens');
fs.mkdirSync(tokenDir);
for (const p of principals) fs.writeFileSync(path.join(tokenDir, path.basename(p.token_file)), `${tokens[path.basename(p.token_file)] ?? 'x'}\n`, { mode: 0o600 });

// Loopback stand-ins: the EventListener and the Kubernetes API.
const elGot = [];
const apiGot = [];
const saDir = path.join(dir, 'serviceaccount');
fs.mkdirSync(saDir);
fs.writeFileSync(path.join(saDir, 'token'), 'k8s-sa-token\n');
fs.writeFileSync(path.join(saDir, 'ca.crt'), 'not used over http\n');
const fixture = (f) => JSON.parse(fs.readFileSync(path.join(podsDir, f), 'utf8'));
const podFixtures = ['oomkilled-executor.json', 'succeeded.json'].map(fixture);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/el') {
      elGot.push({ headers: req.headers, rawHeaders: req.rawHeaders, body });
      res.writeHead(202, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ eventListener: el.metadata?.name, namespace: el.metadata?.namespace,
        eventListenerUID: 'el-uid', eventID: `el-event-${elGot.length}` }));
    } else if (/^\/api\/v1\/namespaces\/[^/]+\/pods$/.test(u.pathname)) {
      apiGot.push({ path: u.pathname, selector: u.searchParams.get('labelSelector'), auth: req.headers.authorization });
      if (req.headers.authorization !== 'Bearer k8s-sa-token') { res.writeHead(401); res.end('{"kind":"Status","code":401}'); return; }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '4242' }, items: podFixtures }));
    } else {
      res.writeHead(404); res.end();
    }
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const replaceOnce = (text, from, to, what) => {
  t.check(text.includes(from), `the ConfigMap's cdeventsd.yaml has ${what}`, from);
  return text.split(from).join(to);
};
let testCfg = cfgText;
testCfg = replaceOnce(testCfg, `${mountOf(secretVol)?.mountPath}/`, `${tokenDir}/`, 'the token paths');
testCfg = replaceOnce(testCfg, tektonSink?.url ?? '-', `${base}/el`, 'the EventListener URL');
testCfg = replaceOnce(testCfg, `state_dir: ${cfgDoc?.state_dir}`, `state_dir: ${path.join(dir, 'state')}`, 'the state_dir');
const cfgFile = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfgFile, testCfg);
const checked = spawnSync(bin, ['--check-config', cfgFile], { encoding: 'utf8' });
t.check(checked.status === 0 && checked.stdout.includes(': ok'),
  'cdeventsd --check-config accepts the ConfigMap\'s cdeventsd.yaml (token and state paths made local)', checked.stdout + checked.stderr);

// The replicated overlay: two replicas, a budget that keeps one, and a
// configuration the daemon accepts (its tokens and state made local; the
// database is only reached at start, not by --check-config).
{
  const rdir = path.join(examples, 'kubernetes-replicated');
  const rdocs = fs.readdirSync(rdir).filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(rdir, f), 'utf8')).map((d) => d.toJS()));
  const rkind = (k) => rdocs.filter((x) => x?.kind === k);
  const rdeploy = rkind('Deployment')[0] ?? {};
  const pdb = rkind('PodDisruptionBudget')[0] ?? {};
  t.check(rdeploy.spec?.replicas === 2 && rdeploy.spec?.strategy?.rollingUpdate?.maxUnavailable === 0,
    'kubernetes-replicated: two replicas, rolled one at a time');
  t.check(pdb.apiVersion === 'policy/v1' && pdb.spec?.minAvailable === 1 &&
    pdb.spec?.selector?.matchLabels?.['app.kubernetes.io/name'] === deploy.spec?.selector?.matchLabels?.['app.kubernetes.io/name'],
  'kubernetes-replicated: a PodDisruptionBudget keeps one of the Deployment\'s pods', JSON.stringify(pdb.spec));
  const rcfg = rkind('ConfigMap')[0]?.data?.['cdeventsd.yaml'] ?? '';
  t.check(/driver: postgres/.test(rcfg) && /password_file: \/run\/secrets\/cdeventsd-db\/password/.test(rcfg),
    'kubernetes-replicated: the log in PostgreSQL, the password from the Secret\'s file');
  const rfile = path.join(dir, 'replicated.yaml');
  fs.writeFileSync(rfile, rcfg.split(`${mountOf(secretVol)?.mountPath}/`).join(`${tokenDir}/`)
    .replace(/state_dir: .*/, `state_dir: ${path.join(dir, 'state-replicated')}`));
  const rchecked = spawnSync(bin, ['--check-config', rfile], { encoding: 'utf8' });
  t.check(rchecked.status === 0 && rchecked.stdout.includes(': ok'),
    'cdeventsd --check-config accepts the replicated ConfigMap\'s cdeventsd.yaml', rchecked.stdout + rchecked.stderr);
}

const d = await startDaemon(bin, ['-c', cfgFile]);
const get = (p, token = tokens.reader) => curl(['-H', `Authorization: Bearer ${token}`, `${d.url}${p}`]);
let r = curl(['-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary', '{"phase":"started","subject":"x"}', `${d.url}/v1/hooks/build`]);
t.check(r.status === 401, 'the example configuration requires a token', `${r.status} ${r.body}`);
t.check(curl([`${d.url}/readyz`]).status === 200 && curl([`${d.url}/healthz`]).status === 200,
  'the probes\' paths answer 200 without a token');

// Collects event ids from curl's output: one answer per hook, or a list.
const idsIn = (out) => [...out.matchAll(/"id":"([^"]+)"/g)].map((m) => m[1]);
const checkEvents = (ids, what, source) => {
  let bad = 0;
  for (const id of ids) {
    const rec = get(`/v1/events/${encodeURIComponent(id)}`);
    const ev = rec.json?.events?.[0]?.event;
    const v = ev ? ajv(ev) : { valid: false, errors: [`GET answered ${rec.status}`] };
    if (!v.valid || ev.context.source !== source) {
      bad++;
      console.log(`  ${what}: ${id}: ${JSON.stringify(v.errors ?? ev?.context?.source)}`);
    }
  }
  t.check(ids.length > 0 && bad === 0, `${what}: all ${ids.length} events are stored, from ${source}, and ajv accepts them (v0.5.1)`);
};
const chainTypes = (chain) => {
  const c = get(`/v1/chains/${encodeURIComponent(chain)}`);
  return (c.json?.events ?? []).map((e) => e.event.context.type.replace(/^dev\.cdevents\./, '').replace(/\.\d+\.\d+\.\d+$/, ''));
};
const GATE_DECIDED = 'dev.cdeventsx.cdeventsd-gate.decided';
const sameBag = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

// Runs a script as its shebang says (sh by default), in a clean environment;
// asynchronously, since the receivers it talks to live in this process.
const stubDir = path.join(dir, 'bin');
fs.mkdirSync(stubDir);
const runScript = (script, env, shell = null, cwd = dir) => {
  const file = path.join(dir, `script-${crypto.randomBytes(4).toString('hex')}`);
  fs.writeFileSync(file, script, { mode: 0o700 });
  const interp = shell ?? (/^#!\s*(\S+)/.exec(script)?.[1] ?? 'sh');
  const args = Array.isArray(interp) ? [...interp.slice(1), file] : [file];
  const child = spawn(Array.isArray(interp) ? interp[0] : interp, args, {
    env: { PATH: `${stubDir}:${process.env.PATH}`, HOME: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'], cwd,
  });
  const r = { status: null, out: '', err: '' };
  child.stdout.on('data', (c) => { r.out += c; });
  child.stderr.on('data', (c) => { r.err += c; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
  return new Promise((resolve) => child.on('close', (code) => { clearTimeout(timer); r.status = code; resolve(r); }));
};

// --- 5. the Tekton Task, resolved and run step by step ----------------------
// Tekton's substitution: $(params.x) and $(context.taskRun.*); anything
// else of that form left unresolved is a mistake in the manifest.
const substitute = (s, vars, what) => {
  const out = String(s).replace(/\$\((params|context)\.([\w.-]+)\)/g, (m, scope, name) => {
    const v = vars[`${scope}.${name}`];
    if (v === undefined) { t.check(false, `${what}: ${m} resolves`); return m; }
    return v;
  });
  return out;
};
const resolveParams = (spec, given, what) => {
  const vars = {};
  for (const p of spec.params ?? []) {
    const v = given[p.name] ?? p.default;
    t.check(v !== undefined, `${what}: param ${p.name} has a value`);
    vars[`params.${p.name}`] = v;
  }
  for (const k of Object.keys(given))
    t.check(`params.${k}` in vars, `${what}: param ${k} is declared`);
  return vars;
};
const secrets = { [`${tektonSecret.metadata?.name}/token`]: tokens.tekton };
const resolveEnv = (envList, vars, what) => {
  const env = {};
  for (const e of envList ?? []) {
    if (e.valueFrom?.secretKeyRef) {
      const ref = `${substitute(e.valueFrom.secretKeyRef.name, vars, what)}/${substitute(e.valueFrom.secretKeyRef.key, vars, what)}`;
      t.check(ref in secrets, `${what}: env ${e.name} comes from the Secret ${ref}`);
      env[e.name] = secrets[ref];
    } else {
      env[e.name] = substitute(e.value ?? '', vars, what);
    }
  }
  return env;
};
// The cluster a step runs in: the service-account mount and the API server.
const inCluster = (script) => script
  .split('/var/run/secrets/kubernetes.io/serviceaccount').join(saDir)
  .split('https://kubernetes.default.svc').join(base);

const runTask = async (given, uid, name) => {
  const what = `Task ${task.metadata.name}`;
  const vars = { ...resolveParams(task.spec, given, what), 'context.taskRun.uid': uid,
    'context.taskRun.name': name, 'context.taskRun.namespace': task.metadata.namespace };
  const tmplEnv = task.spec.stepTemplate?.env ?? [];
  const results = [];
  for (const step of task.spec.steps) {
    t.check(!step.ref && step.script, `${what}: step ${step.name} has a script`);
    const merged = [...tmplEnv.filter((e) => !(step.env ?? []).some((s) => s.name === e.name)), ...(step.env ?? [])];
    const env = resolveEnv(merged, vars, `${what} step ${step.name}`);
    const script = inCluster(substitute(step.script, vars, `${what} step ${step.name}`));
    results.push({ step: step.name, ...await runScript(script, env) });
  }
  return results;
};
const tektonChain = `kit-tekton-${crypto.randomBytes(4).toString('hex')}`;
const artifactId = 'pkg:oci/etl@sha256%3A469bcc4b399086c601419cc4721f01766003cf06751de9d92897ae466e290461';
const taskParams = { app: 'spark-etl', 'chain-id': tektonChain, 'artifact-id': artifactId, change: '3f2a9c1',
  'pod-selector': 'spark-app-name=etl-daily', 'cdeventsd-url': d.url };
const uid = crypto.randomUUID();
const taskRun = await runTask(taskParams, uid, 'spark-release-run-1');
const taskIds = [];
for (const s of taskRun) {
  t.check(s.status === 0, `Task step ${s.step}: its curl gets 2xx`, short(s.out + s.err));
  taskIds.push(...idsIn(s.out));
}
t.check(taskRun.length === task.spec.steps.length && task.spec.steps.every((s) => /\bcurl\b/.test(s.script)),
  'every step of the Task posts with curl, and every one ran');
checkEvents(taskIds, 'Task', '/tekton');
t.check(sameBag(chainTypes(tektonChain), ['build.started', 'build.finished', 'testsuiterun.finished', 'artifact.packaged',
  'artifact.published', GATE_DECIDED, 'service.deployed', 'taskrun.finished', 'taskrun.finished', 'incident.detected']),
  'the Task\'s release is one chain: build, tests, artifact, gate, deployment, pod outcomes', JSON.stringify(chainTypes(tektonChain)));
const taskGate = taskRun.find((s) => s.step === 'gate');
t.check(taskGate?.status === 0 && /promotion gate prod: .*"decision":"allow"/.test(taskGate.err),
  'Task step gate: prod allows the release and the step says so', short(taskGate?.err ?? ''));
t.check(apiGot.length === 1 && apiGot[0].selector === taskParams['pod-selector'] &&
  apiGot[0].path === `/api/v1/namespaces/${paramDefault(task.spec, 'pod-namespace')}/pods`,
  'the pod step lists the job\'s pods with the service account\'s token and the selector', JSON.stringify(apiGot));
const deployed = get(`/v1/events/${encodeURIComponent(`${uid}.service.deployed`)}`).json?.events?.[0]?.event;
t.check(typeof deployed?.customData?.sizing?.fits === 'boolean',
  'the deploy hook\'s Spark job is sized against the configured cluster', JSON.stringify(deployed?.customData));
// The same TaskRun again (a retried step, curl's --retry): nothing twice.
const again = await runTask(taskParams, uid, 'spark-release-run-1');
// The gate is asked again and answers the same, naming the decision it
// logged the first time: no second decision either.
t.check(again.every((s) => s.status === 0) && chainTypes(tektonChain).length === 10 &&
  chainTypes(tektonChain).filter((x) => x === GATE_DECIDED).length === 1,
  'the Task run again with the same uid stores nothing twice (200 duplicate), the gate\'s same answer included',
  JSON.stringify(chainTypes(tektonChain)));

// --- 6. the StepAction -------------------------------------------------------
const runStepAction = (given) => {
  const what = `StepAction ${stepAction.metadata.name}`;
  const vars = resolveParams(stepAction.spec, given, what);
  const env = resolveEnv(stepAction.spec.env, vars, what);
  return runScript(substitute(stepAction.spec.script, vars, what), env);
};
const saChain = `kit-stepaction-${crypto.randomBytes(4).toString('hex')}`;
const saRuns = [
  await runStepAction({ kind: 'build', 'cdeventsd-url': d.url,
    payload: JSON.stringify({ id: `${saChain}.build.started`, phase: 'started', subject: `${saChain}-build`, chainId: saChain }) }),
  await runStepAction({ kind: 'pod', 'cdeventsd-url': d.url, payload: `@${path.join(podsDir, 'evicted-memory.json')}` }),
];
t.check(saRuns.every((s) => s.status === 0), 'StepAction: a JSON payload and an @FILE payload get 2xx',
  short(saRuns.map((s) => s.out + s.err).join('\n')));
checkEvents(saRuns.flatMap((s) => idsIn(s.out)), 'StepAction', '/tekton');
const refused = await runStepAction({ kind: 'build', 'cdeventsd-url': d.url, payload: '{"phase": "exploded", "subject": "x"}' });
t.check(refused.status !== 0 && refused.out.includes('/phase'),
  'StepAction: a hook cdeventsd refuses fails the step and shows the pointer', short(refused.out + refused.err));

// --- 7. the Jenkinsfile --------------------------------------------------------
const jenkinsfile = fs.readFileSync(path.join(examples, 'jenkins', 'Jenkinsfile'), 'utf8');
t.check(/\bpost\s*\{\s*always\s*\{[\s\S]*?\bsh\s+'''[\s\S]*?\bcurl\b/.test(jenkinsfile), 'Jenkinsfile: post { always { sh \'curl ...\' } }');
t.check(/kubectl get pods?\b[^\n]*-o json/.test(jenkinsfile) && jenkinsfile.includes('--data-binary @-'),
  'Jenkinsfile: kubectl get pod -o json is piped to curl --data-binary @-');
// Groovy's ''' strings: backslash-newline joins lines, and \\ \' \$ \n \t.
const groovy = (s) => s.replace(/\\(\n|\\|'|\$|n|t)/g, (m, c) => ({ '\n': '', '\\': '\\', "'": "'", $: '$', n: '\n', t: '\t' })[c]);
const envBlock = /\benvironment\s*\{([\s\S]*?)\n\s*\}/.exec(jenkinsfile)?.[1] ?? '';
const jenkinsEnv = (globals) => {
  const env = { ...globals };
  for (const line of envBlock.split('\n')) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.+?)\s*$/.exec(line);
    if (!m) continue;
    let v = m[2].replace(/\s+\/\/.*$/, '');   // a trailing comment
    if (/^credentials\('cdeventsd-token'\)$/.test(v)) v = tokens.jenkins;
    else if (/^'[^']*'$/.test(v)) v = v.slice(1, -1);
    else if (/^"[^"]*"$/.test(v)) v = v.slice(1, -1).replace(/\$\{env\.(\w+)\}/g, (x, k) => env[k] ?? x);
    else { t.check(false, `Jenkinsfile: environment ${m[1]} is understood by the test`, v); continue; }
    env[m[1]] = v;
  }
  return env;
};
const shBlocks = [...jenkinsfile.matchAll(/\bsh\s+'''([\s\S]*?)'''/g)].map((m) => groovy(m[1]));
const codeOnly = jenkinsfile.split('\n').filter((l) => !/^\s*\/\//.test(l)).join('\n');
t.check(shBlocks.length > 0 && shBlocks.reduce((n, b) => n + (b.match(/\bcurl\b/g) ?? []).length, 0) ===
  (codeOnly.match(/\bcurl\b/g) ?? []).length, 'Jenkinsfile: every curl is in a sh \'\'\' block the test runs');
// kubectl: prints a List of fixtures, as `kubectl get pods -o json` does
// (each build's pods with their own uids: event ids derive from them).
fs.writeFileSync(path.join(stubDir, 'kubectl'), `#!/bin/sh
[ "$*" = "get pods -n spark-jobs -l spark-app-name=etl-daily -o json" ] || { echo "kubectl stub: unexpected: $*" >&2; exit 1; }
cat '${path.join(dir, 'pods-list.json')}'
`, { mode: 0o755 });
const runJenkins = async (buildNumber, result) => {
  fs.writeFileSync(path.join(dir, 'pods-list.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List',
    metadata: { resourceVersion: '' },
    items: podFixtures.map((p) => ({ ...p, metadata: { ...p.metadata, uid: `${p.metadata.uid}-build-${buildNumber}` } })) }, null, 4));
  const env = jenkinsEnv({ BUILD_NUMBER: String(buildNumber), JOB_NAME: 'spark-etl', BUILD_TAG: `jenkins-spark-etl-${buildNumber}`,
    BUILD_URL: `https://jenkins.example.com/job/spark-etl/${buildNumber}/`, GIT_COMMIT: '3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39', RESULT: result });
  env.CDEVENTSD_URL = d.url;
  const runs = [];
  for (const b of shBlocks) runs.push(await runScript(b, env, ['sh', '-eu']));
  return { env, runs };
};
const ok = await runJenkins(42, 'SUCCESS');
ok.runs.forEach((s, i) => t.check(s.status === 0, `Jenkinsfile sh block ${i + 1} (a successful build): its curls get 2xx`, short(s.out + s.err)));
checkEvents(ok.runs.flatMap((s) => idsIn(s.out)), 'Jenkinsfile', '/jenkins');
t.check(sameBag(chainTypes(ok.env.BUILD_TAG), ['pipelinerun.started', 'build.started', 'build.finished', 'testsuiterun.finished',
  'artifact.packaged', 'artifact.published', GATE_DECIDED, 'service.deployed', 'taskrun.finished', 'taskrun.finished',
  'incident.detected', 'pipelinerun.finished']), 'the Jenkins build is one chain, from pipelinerun.started to finished',
  JSON.stringify(chainTypes(ok.env.BUILD_TAG)));
const failed = await runJenkins(43, 'FAILURE');
// Its tests failed: the Gate stage stops it (exit 1, the reason in the
// log); every other block still reports.
const gateBlock = shBlocks.findIndex((b) => b.includes('/v1/gates/'));
t.check(gateBlock >= 0 && failed.runs.every((s, i) => (i === gateBlock) === (s.status !== 0)) &&
  failed.runs[gateBlock].status === 1 && failed.runs[gateBlock].err.includes('the latest run of test suite spark-etl'),
  'Jenkinsfile: a failed build reports too, and its Gate stage denies prod naming the failed suite',
  short(failed.runs.map((s) => s.err).join('')));
const finished = get(`/v1/events/${encodeURIComponent('jenkins-spark-etl-43.pipelinerun.finished')}`).json?.events?.[0]?.event;
t.check(finished?.subject?.content?.outcome === 'failure', 'the failed build\'s pipelinerun.finished says failure',
  JSON.stringify(finished?.subject?.content));
const metrics = get('/metrics').body;
t.check(metrics.includes('cdeventsd_runs_total{kind="pipeline",name="spark-etl",outcome="success"} 1') &&
  metrics.includes('cdeventsd_runs_total{kind="pipeline",name="spark-etl",outcome="failure"} 1') &&
  /cdeventsd_deployments_total\{environment="prod",action="deployed"\} [1-9]/.test(metrics),
  'GET /metrics (reader token) counts the Jenkins runs and the deployments',
  metrics.split('\n').filter((l) => /runs_total|deployments_total/.test(l)).join('\n'));

// --- 8. the EventListener's CEL filter on what the tekton sink really sends -
// Go's canonical header key, as Tekton Triggers' header.match uses.
const canonical = (k) => k.toLowerCase().replace(/(^|-)([a-z])/g, (m, a, b) => a + b.toUpperCase());
const headerOf = (got, name) => {
  for (let i = 0; i < got.rawHeaders.length; i += 2)
    if (canonical(got.rawHeaders[i]) === canonical(name)) return got.rawHeaders[i + 1];
  return undefined;
};
// The CEL the examples use: terms joined by &&, each header.match(N, V),
// header.canonical(N) == V, or header.canonical(N).startsWith(V).
const cel = (expr, got) => expr.split('&&').map((s) => s.trim()).every((term) => {
  let m;
  if ((m = /^header\.match\('([^']+)',\s*'([^']*)'\)$/.exec(term))) return headerOf(got, m[1]) === m[2];
  if ((m = /^header\.canonical\('([^']+)'\)\s*==\s*'([^']*)'$/.exec(term))) return headerOf(got, m[1]) === m[2];
  if ((m = /^header\.canonical\('([^']+)'\)\.startsWith\('([^']*)'\)$/.exec(term))) return (headerOf(got, m[1]) ?? '').startsWith(m[2]);
  throw new Error(`CEL term the test does not know: ${term}`);
});
// At least once: a receiver may see an event twice, never miss one.
const elIds = () => new Set(elGot.map((g) => headerOf(g, 'Ce-Id')));
await waitFor(() => elIds().size >= 3, 10000, { every: 50 });
t.check(elIds().size === 3, 'the tekton sink delivered the three artifact.published events (Task, two Jenkins builds) to the EventListener',
  `${[...elIds()]}`);
const celType = /'(dev\.cdevents\.[^']+)'/.exec(celFilter)?.[1];
let celOk = elGot.length > 0;
for (const got of elGot) {
  let pass = false;
  try { pass = cel(celFilter, got); } catch (e) { console.log(e.message); }
  celOk &&= pass && headerOf(got, 'Ce-Type') === celType;
}
t.check(celOk, 'the CEL filter matches the Ce-Type the tekton sink sends', `${celFilter} vs ${elGot.map((g) => headerOf(g, 'Ce-Type'))}`);
let refusesOthers = false;
try { refusesOthers = !cel(celFilter, { rawHeaders: ['Ce-Type', 'dev.cdevents.artifact.packaged.0.3.0'] }); } catch { /* reported above */ }
t.check(refusesOthers, 'the CEL filter refuses another type');
const fromTask = elGot.find((g) => JSON.parse(g.body).context?.chainId === tektonChain);
t.check(fromTask, 'the Task\'s artifact.published reached the EventListener with its chain');
if (fromTask) {
  const body = JSON.parse(fromTask.body);
  const bound = {};
  for (const p of binding.spec.params) {
    const m = /^\$\((body|header)\.(.+)\)$/.exec(p.value);
    bound[p.name] = m?.[1] === 'body' ? m[2].split('.').reduce((o, k) => o?.[k], body) : m ? headerOf(fromTask, m[2]) : undefined;
  }
  t.check(Object.values(bound).every((v) => typeof v === 'string' && v.length > 0),
    'every TriggerBinding param resolves on the delivered event', JSON.stringify(bound));
  t.check(bound['artifact-id'] === artifactId && bound['chain-id'] === tektonChain && bound['cdevent-id'] === `${uid}.artifact.published`,
    'the binding takes the artifact, the event and the chain of the release', JSON.stringify(bound));
  const rec = get(`/v1/events/${encodeURIComponent(`${uid}.artifact.published`)}`).json?.events?.[0];
  t.check(rec?.deliveries?.some((x) => /^el-event-\d+$/.test(x.receipt ?? '')),
    'the EventListener\'s eventID is kept as the delivery receipt', JSON.stringify(rec?.deliveries));
}

t.check(await d.stop() === 0, 'the daemon exits 0 on SIGTERM');

// --- 9. the README's five-minute walkthrough, on the embedded default ------
const readme = fs.readFileSync(path.join(srcDir, 'README.md'), 'utf8');
const walkthrough = /\n## Five-minute walkthrough\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
const blocks = [...walkthrough.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], text: m[2] }));
const hooks = blocks.find((b) => b.lang === 'sh' && b.text.includes('hook()'));
t.check(blocks.some((b) => /^make run\b/m.test(b.text)) && hooks, 'README: the walkthrough starts with make run, then posts hooks');
if (hooks) {
  const w = await startDaemon(bin);    // the embedded default, as make run starts it
  const run = await runScript(hooks.text.split('http://127.0.0.1:9720').join(w.url), {}, ['sh', '-e'], srcDir);
  t.check(run.status === 0 && !run.out.includes('"error"'), 'README walkthrough: every hook gets 2xx', short(run.out + run.err, 2000));
  const shown = (after) => walkthrough.split(after)[1]?.split('\n$ ')[0].split('```')[0].split('\n').slice(1).filter(Boolean) ?? [];
  const tableTypes = shown('--chain etl-r42 --table').slice(1).map((l) => l.trim().split(/\s+/)[2]);
  const chain = curl([`${w.url}/v1/chains/etl-r42`]).json?.events ?? [];
  t.check(tableTypes.length > 0 &&
    JSON.stringify(chain.map((e) => e.event.context.type.replace(/^dev\.cdevents\./, ''))) === JSON.stringify(tableTypes),
    'README walkthrough: the chain holds what its table shows', `${tableTypes} vs ${chain.map((e) => e.event.context.type)}`);
  const m = curl([`${w.url}/metrics`]).body.split('\n');
  const shownMetrics = shown("grep -E '^cdeventsd_(runs|deployments|pod_outcomes)_total'");
  t.check(shownMetrics.length > 0 && shownMetrics.every((l) => m.includes(l)) &&
    m.filter((l) => /^cdeventsd_(runs|deployments|pod_outcomes)_total/.test(l)).length === shownMetrics.length,
    'README walkthrough: /metrics shows the lines it says', shownMetrics.join('\n'));
  const remedy = curl([`${w.url}/v1/events/5d2a63a1-cc67-4416-a226-e33fd73eaa4b.incident.OOMKilled`]).json?.events?.[0]?.event?.customData?.podOutcome?.remedy;
  t.check(remedy?.action === 'raise_memory_overhead' && walkthrough.includes(`"action":"${remedy.action}","text":"${remedy.text.slice(0, 40)}`),
    'README walkthrough: the remedy it shows is the one given', JSON.stringify(remedy?.text));
  t.check(await w.stop() === 0, 'README walkthrough: the daemon exits 0');
}
server.close();
fs.rmSync(dir, { recursive: true, force: true });
t.finish();
