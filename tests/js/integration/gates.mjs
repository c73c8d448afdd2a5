// Promotion gates (README "Promotion gates"): real hooks posted first, then
// GET /v1/gates/{environment} and `cdevctl gate` (table, exit codes); a
// release blocked at prod because its data-contract suite failed, then
// allowed after a fixed run; each decision an event in the artifact's chain,
// with its principal, valid for ajv against the official custom schema and
// the schema the project ships; `enforce: true` answering 409 to a
// deployment (hook or /v1/events) of a denied artifact; evidence taken only
// from the gate's principals (`from`), an intruder allowed to post ignored;
// what ends a soak (an operator's rollback) heard from anyone.
//
//   node tests/js/integration/gates.mjs path/to/cdeventsd path/to/cdevctl
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startDaemon, postJson, curl, checker, waitFor } from '../daemon.mjs';
import { oracle } from '../oracle.mjs';

const t = checker();
const [bin, cdevctl] = process.argv.slice(2);
const sourceDir = process.env.CDE_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const shippedDir = path.join(sourceDir, 'schemas', 'custom');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-gates-'));
const token = crypto.randomBytes(24).toString('hex');
const tokenFile = path.join(dir, 'ci.token');
fs.writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
const intruderToken = crypto.randomBytes(24).toString('hex');
fs.writeFileSync(path.join(dir, 'intruder.token'), intruderToken + '\n', { mode: 0o600 });
const operatorToken = crypto.randomBytes(24).toString('hex');
fs.writeFileSync(path.join(dir, 'operator.token'), operatorToken + '\n', { mode: 0o600 });
const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `principals:
  - name: release-bot
    scopes: [emit, query]
    token_file: ${tokenFile}
  - name: intruder
    scopes: [emit]
    token_file: ${path.join(dir, 'intruder.token')}
    sources: [/intruder]
  - name: operator
    scopes: [emit]
    token_file: ${path.join(dir, 'operator.token')}
schemas:
  dirs: [${shippedDir}]
gates:
  prod:
    enforce: true
    from: [release-bot]
    require:
      - build: true
      - tests: {suites: [unit, data-contract], outcome: success}
      - test_case: {type: security, outcome: success}
      - artifact: signed
      - sbom: true
      - deployed: {environment: stage, not_rolled_back_for: 1s}
  stage:
    require:
      - build: true
`);

const d = await startDaemon(bin, ['-c', cfg]);
const auth = ['-H', `Authorization: Bearer ${token}`];
const ART = 'pkg:oci/etl@sha256%3Aabc123';
const OLD = 'pkg:oci/etl@sha256%3Aold000';
const hook = (kind, body) => postJson(`${d.url}/v1/hooks/${kind}`, { chainId: 'release-42', ...body }, auth);
// Decisions given: each is an event in the log, unless the same answer
// was given lately and names the decision already logged ("reused").
let answered = 0, reused = 0;
const gate = (env, artifact) => {
  const g = curl([...auth, `${d.url}/v1/gates/${env}` + (artifact === undefined ? '' : `?artifact=${encodeURIComponent(artifact)}`)]);
  if (g.status === 200 && g.json?.event?.reused) reused++;
  else if (g.status === 200) answered++;
  return g;
};
const cli = (...args) => {
  const c = spawnSync(cdevctl, ['gate', '--url', d.url, '--token-file', tokenFile, ...args], { encoding: 'utf8' });
  if ((c.status === 0 || c.status === 1) && /decision already logged/.test(c.stdout)) reused++;
  else if (c.status === 0 || c.status === 1) answered++;
  return c;
};
const row = (answer, requirement, key, value) =>
  answer?.requirements?.find((r) => r.requirement === requirement && (!key || r[key] === value));

// The release's evidence, as a pipeline posts it.
const posted = [
  hook('build', { phase: 'finished', subject: 'etl-build-42', artifactId: ART }),
  hook('artifact', { phase: 'packaged', subject: ART, change: 'commit-9f2', sbom: { uri: 'https://sbom.example/etl.spdx.json' } }),
  hook('artifact', { phase: 'signed', subject: ART, signature: 'MEUCIQDx' }),
  hook('test', { phase: 'finished', subject: 'unit-run-42', testSuite: 'unit', environment: 'ci', outcome: 'success' }),
  hook('test', { phase: 'finished', subject: 'dc-run-42', testSuite: 'data-contract', environment: 'ci', outcome: 'failure',
    reason: 'column amount: 12 nulls' }),
  hook('test', { phase: 'finished', level: 'case', subject: 'zap-42', testCase: { id: 'zap-baseline', type: 'security' },
    environment: 'ci', outcome: 'success' }),
  hook('deploy', { phase: 'deployed', subject: 'etl', environment: 'stage', artifactId: ART }),
];
t.check(posted.every((r) => r.status === 202), 'the release\'s hooks are accepted', posted.map((r) => r.body).join('\n'));
const seqOf = (i) => posted[i].json?.seq;

// Blocked: the data-contract suite failed.
let r = gate('prod', ART);
t.check(r.status === 200 && r.json?.decision === 'deny', 'prod denies the release', r.body);
const dc = row(r.json, 'tests', 'suite', 'data-contract');
t.check(dc?.met === false && dc.seq === seqOf(4) &&
  dc.reason === `the latest run of test suite data-contract (seq ${seqOf(4)}) finished failure`,
  'the failed data-contract run is named with its seq', JSON.stringify(dc));
t.check(row(r.json, 'build')?.seq === seqOf(0) && row(r.json, 'artifact')?.seq === seqOf(2) &&
  row(r.json, 'sbom')?.seq === seqOf(1) && row(r.json, 'tests', 'suite', 'unit')?.seq === seqOf(3) &&
  row(r.json, 'test_case')?.seq === seqOf(5) && row(r.json, 'build').met && row(r.json, 'sbom').met,
  'each met requirement carries the seq of its evidence', r.body);
t.check(r.json?.chainId === 'release-42' && Number.isInteger(r.json?.event?.seq),
  'the answer names the chain and the decision event\'s seq', r.body);

let c = cli('--env', 'prod', '--artifact', ART);
t.check(c.status === 1 && /deny/.test(c.stdout) && /tests data-contract success\s+no\s+\d+\s+the latest run/.test(c.stdout),
  'cdevctl gate prints the table and exits 1 on deny', c.stdout + c.stderr);

// Trusted evidence only: a principal allowed to post (under its own
// source) sends a passing data-contract run into the release's chain; the
// gate takes evidence from release-bot alone, so prod still denies.
const intruded = postJson(`${d.url}/v1/hooks/test`, { chainId: 'release-42', phase: 'finished', subject: 'dc-run-evil',
  testSuite: 'data-contract', environment: 'ci', outcome: 'success' }, ['-H', `Authorization: Bearer ${intruderToken}`]);
t.check(intruded.status === 202, 'the intruder\'s run is accepted into the log', intruded.body);
r = gate('prod', ART);
t.check(r.json?.decision === 'deny' && row(r.json, 'tests', 'suite', 'data-contract')?.seq === seqOf(4),
  'a run posted by a principal outside the gate\'s `from` is no evidence', r.body);

// Enforced: the deployment to prod is refused with the gate's reasons.
r = hook('deploy', { phase: 'deployed', subject: 'etl', environment: 'prod', artifactId: ART });
answered++; // an enforced gate's answer is logged too
t.check(r.status === 409 && r.json?.details?.some((e) => e.reason.includes('data-contract')),
  'a deploy hook to prod of a denied artifact is 409 with the reasons', r.body);
t.check(r.json?.details?.every((e) => e.pointer === '/artifactId'), 'each reason points at the artifact judged', r.body);
// The attack: a deployment to the gated environment naming no artifact
// at all must not slip past the gate that judges artifacts (the spec
// requires artifactId of a deployment: refused before any gate).
r = hook('deploy', { phase: 'deployed', subject: 'etl', environment: 'prod' });
t.check(r.status === 400 && r.json?.details?.[0]?.pointer === '/artifactId',
  'a deploy hook to prod that names no artifact is refused at /artifactId', r.body);
const deployedEvent = {
  context: { specversion: '0.5.1', id: crypto.randomUUID(), source: '/release-bot', type: 'dev.cdevents.service.deployed.0.3.0',
    timestamp: new Date().toISOString(), chainId: 'release-42' },
  subject: { id: 'etl', source: '/release-bot', content: { environment: { id: 'prod' }, artifactId: ART } },
};
r = postJson(`${d.url}/v1/events`, deployedEvent, auth);
answered++;
t.check(r.status === 409 && r.json?.details?.every((e) => e.pointer === '/subject/content/artifactId'),
  'POST /v1/events of the same deployment is 409 too', r.body);
r = postJson(`${d.url}/v1/events`, { ...deployedEvent, context: { ...deployedEvent.context, id: crypto.randomUUID() },
  subject: { ...deployedEvent.subject, content: { environment: { id: 'prod' } } } }, auth);
t.check(r.status === 400 && r.json?.details?.[0]?.pointer === '/subject/content/artifactId',
  'and one naming no artifact is refused at its artifactId', r.body);
r = postJson(`${d.url}/v1/events?dry_run=1`, deployedEvent, auth);
t.check(r.status === 409, 'a dry run of it is 409 as well (and logs no decision)', r.body);
r = hook('deploy', { phase: 'deployed', subject: 'etl', environment: 'stage', artifactId: ART, chainId: 'release-42' });
t.check(r.status === 202, 'a gate without enforce (stage) does not hold deployments', r.body);

// Fixed: a new data-contract run succeeds; once the stage soak (1s) is
// over the gate allows, and the deployment goes through.
const fixed = hook('test', { phase: 'finished', subject: 'dc-run-43', testSuite: 'data-contract', environment: 'ci', outcome: 'success' });
t.check(fixed.status === 202, 'the fixed data-contract run is accepted', fixed.body);
r = await waitFor(() => { const g = gate('prod', ART); return g.json?.decision === 'allow' ? g : null; }, 10000, { every: 200 });
t.check(r?.json?.decision === 'allow' && row(r.json, 'tests', 'suite', 'data-contract')?.seq === fixed.json?.seq,
  'after the fixed run prod allows, on the new run\'s seq', r?.body);
c = cli('--env', 'prod', '--artifact', ART);
t.check(c.status === 0 && /: allow/.test(c.stdout), 'cdevctl gate exits 0 on allow', c.stdout + c.stderr);
r = postJson(`${d.url}/v1/events`, { ...deployedEvent, context: { ...deployedEvent.context, id: crypto.randomUUID() } }, auth);
answered++;
t.check(r.status === 202, 'the enforced deployment is accepted once the gate allows', r.body);
const prodSeq = r.json?.seq;

// Rolled back: a later artifact deployed to stage and rolled back.
hook('build', { phase: 'finished', subject: 'etl-build-43', artifactId: OLD.replace('old000', 'new111'), chainId: 'release-43' });
const NEW = OLD.replace('old000', 'new111');
const replaced = hook('deploy', { phase: 'deployed', subject: 'etl', environment: 'stage', artifactId: NEW, chainId: 'release-43' });
const rb = hook('deploy', { phase: 'rolledback', subject: 'etl', environment: 'stage', artifactId: ART, chainId: 'release-43' });
r = gate('prod', NEW);
const dep = row(r.json, 'deployed');
t.check(r.json?.decision === 'deny' && dep?.met === false && dep.reason.startsWith(`rolled back in stage at seq ${rb.json?.seq}`),
  'a release rolled back in stage is denied, naming the rollback', r.body);
// and the release it replaced there no longer soaks: its time in stage
// ended when another artifact took its place (the rollback back to it is
// no new deployment of it).
r = gate('prod', ART);
t.check(r.json?.decision === 'deny' && row(r.json, 'deployed')?.reason?.startsWith(`replaced in stage at seq ${replaced.json?.seq}`),
  'a release replaced in stage is denied at prod, naming the deployment that replaced it', r.body);

// The end of a soak is heard from anyone: the bot (in `from`) deploys a
// release to stage, and an operator's rollback tool (not in `from`) rolls
// stage back to another artifact. The release no longer soaks; whoever
// posts such an end can only make the gate deny, never allow.
const REPORTS = 'pkg:oci/reports@sha256%3Arep444', REPORTS_OLD = 'pkg:oci/reports@sha256%3Arep443';
hook('build', { phase: 'finished', subject: 'reports-build-44', artifactId: REPORTS, chainId: 'release-44' });
const onStage = hook('deploy', { phase: 'deployed', subject: 'reports', environment: 'stage', artifactId: REPORTS,
  chainId: 'release-44' });
const opRollback = postJson(`${d.url}/v1/hooks/deploy`, { phase: 'rolledback', subject: 'reports', environment: 'stage',
  artifactId: REPORTS_OLD, chainId: 'ops-1' }, ['-H', `Authorization: Bearer ${operatorToken}`]);
t.check(onStage.status === 202 && opRollback.status === 202, 'the deployment and the operator\'s rollback are accepted',
  onStage.body + opRollback.body);
r = gate('prod', REPORTS);
t.check(r.json?.decision === 'deny' && row(r.json, 'deployed')?.met === false &&
  row(r.json, 'deployed')?.reason === `rolled back in stage at seq ${opRollback.json?.seq}, after its deployment at seq ${onStage.json?.seq}`,
  'a rollback posted by a principal outside the gate\'s `from` ends the soak', r.body);

// Errors: unknown environment, missing artifact, and cdevctl's exit 2.
r = gate('qa', ART);
t.check(r.status === 404 && r.json?.details?.[0]?.pointer === '/path/environment' && /gates: prod, stage/.test(r.body),
  'an environment without a gate is 404 with a JSON body naming it', r.body);
r = gate('prod');
t.check(r.status === 400 && r.json?.details?.[0]?.pointer === '/query/artifact', 'no artifact is 400 naming the parameter', r.body);
c = cli('--env', 'qa', '--artifact', ART);
t.check(c.status === 2 && /no gate is configured/.test(c.stderr), 'cdevctl gate exits 2 on an error, saying why', c.stderr);
t.check(curl([`${d.url}/v1/gates/prod?artifact=x`]).status === 401, 'asking a gate takes a credential (scope query)');

// The decisions, in the log: who asked, what was answered, valid for ajv.
r = curl([...auth, `${d.url}/v1/events?type=dev.cdeventsx.cdeventsd-gate.decided&limit=100`]);
const decisions = r.json?.events ?? [];
t.check(decisions.length === answered, 'every answered question is one decision event', `${decisions.length} of ${answered}`);
t.check(reused > 0, 'a question answered the same as lately names the decision already logged', `${reused} reused`);
const official = oracle('v0.5.1');
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const shipped = ajv.compile(JSON.parse(fs.readFileSync(path.join(shippedDir, 'cdeventsd-gate.decided.0.1.0.json'), 'utf8')));
const bad = decisions.filter((rec) => !official(rec.event).valid || !shipped(rec.event));
t.check(decisions.length && !bad.length, 'each decision event is valid for ajv (official custom schema and the shipped one)',
  JSON.stringify(shipped.errors ?? bad[0]?.event));
const first = decisions[0];
t.check(first?.principal === 'release-bot' && first.event.subject.content.principal === 'release-bot' &&
  first.event.context.chainId === 'release-42' && first.event.subject.content.decision === 'deny' &&
  first.event.subject.content.artifactId === ART, 'a decision names its principal, artifact and chain', JSON.stringify(first));
r = curl([...auth, `${d.url}/v1/chains/release-42`]);
const chain = r.json?.events ?? [];
const lastDecision = chain.filter((e) => e.event.context.type === 'dev.cdeventsx.cdeventsd-gate.decided.0.1.0' &&
  e.seq < prodSeq).pop();
t.check(lastDecision?.seq === prodSeq - 1 && lastDecision.event.subject.content.decision === 'allow',
  'the enforced gate\'s allow is logged in the chain just ahead of the deployment it let through', JSON.stringify(lastDecision));
r = curl([...auth, `${d.url}/v1/schemas`]);
t.check(r.json?.schemas?.some((s) => s.id === 'https://cdeventsd.dev/schemas/cdeventsd-gate.decided.0.1.0.json'),
  'the shipped schema loads as a schemas: dir', r.body);

// SIGHUP takes new gates; a gate asking what no event carries is refused
// with its file and pointer, at --check-config as at a reload.
fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8') + '  qa:\n    require:\n      - artifact: signed\n');
d.proc.kill('SIGHUP');
r = await waitFor(() => { const g = gate('qa', ART); return g.status === 200 ? g : null; });
t.check(r?.json?.decision === 'allow' && row(r.json, 'artifact')?.seq === seqOf(2), 'a gate added to the file answers after SIGHUP', r?.body);
const badCfg = path.join(dir, 'bad.yaml');
fs.writeFileSync(badCfg, 'gates:\n  prod:\n    require:\n      - build: {outcome: success}\n');
const check = spawnSync(bin, ['--check-config', badCfg], { encoding: 'utf8' });
t.check(check.status !== 0 && (check.stdout + check.stderr).includes(`${badCfg}: /gates/prod/require/0/build: must be true`),
  '--check-config refuses a gate with its file and pointer', check.stdout + check.stderr);
fs.writeFileSync(badCfg, `principals:\n  - name: jenkins\n    scopes: [emit]\n    token_file: ${tokenFile}\n` +
  'gates:\n  prod:\n    from: [jenkins, tekton]\n    require:\n      - build: true\n');
const unknown = spawnSync(bin, ['--check-config', badCfg], { encoding: 'utf8' });
t.check(unknown.status !== 0 && (unknown.stdout + unknown.stderr).includes(`${badCfg}: /gates/prod/from/1: no principal is named "tekton"`),
  '--check-config refuses a gate trusting a principal the file does not have', unknown.stdout + unknown.stderr);

t.check(await d.stop() === 0, 'the daemon stops cleanly');
t.finish();
