// Promotion gates and retention (issue 18, review F2): retention deletes the
// oldest rows of the log whatever chain they are in, so a failed test case
// it deleted would stop counting and turn a gate's deny into an allow with
// no new evidence. Retention names each chain it cuts (retired_chains, in
// the transaction of its delete), and a gate reading such a chain denies
// without judging it, asked (GET /v1/gates) or enforced (a deploy hook is
// 409); a release whose chain retention has not cut is judged as before.
// Retention names each artifact its deleted rows named too
// (retired_artifacts): a chain whose build row went no longer links to the
// artifact, so the gate could neither read its failed run nor see it cut,
// and another chain's passing build of the artifact would allow (review 4
// R1); the gate denies such an artifact unjudged.
// The same on audit.db and (pg-gates-retention) on PostgreSQL.
//
//   node tests/js/integration/gates-retention.mjs path/to/cdeventsd path/to/cdevctl
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, postJson, curl, checker, waitFor, auditSql } from '../daemon.mjs';

const t = checker();
const [bin] = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-gates-retention-'));
const token = crypto.randomBytes(24).toString('hex');
fs.writeFileSync(path.join(dir, 'bot'), token + '\n', { mode: 0o600 });
const bot = ['-H', `Authorization: Bearer ${token}`];
const needs = '    require:\n      - build: true\n      - test_case: {type: security, outcome: success}';
const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `principals:
  - name: release-bot
    scopes: [emit, query]
    token_file: ${dir}/bot
audit:
  max_age: 4s
  retention_interval: 1s
gates:
  prod:
    enforce: true
${needs}
  qa:
${needs}
`);

const d = await startDaemon(bin, ['-c', cfg]);
const hook = (kind, body) => postJson(`${d.url}/v1/hooks/${kind}`, body, bot);
const gate = (env, artifact) => curl([...bot, `${d.url}/v1/gates/${env}?artifact=${encodeURIComponent(artifact)}`]);
const securityCase = (id, outcome, chainId) => postJson(`${d.url}/v1/events`, {
  context: { specversion: '0.5.1', id: crypto.randomUUID(), source: '/ci', type: 'dev.cdevents.testcaserun.finished.0.3.0',
    timestamp: new Date().toISOString(), chainId },
  subject: { id: `run-${id}`, content: { outcome, environment: { id: 'ci' }, testCase: { id, type: 'security' } } },
}, bot);
const inChain = (chain) => curl([...bot, `${d.url}/v1/chains/${chain}`]).json?.events ?? [];
const X = 'pkg:oci/etl@sha256%3Ax01', Y = 'pkg:oci/etl@sha256%3Ay02', Z = 'pkg:oci/etl@sha256%3Az03';

// Release X: its sast scan failed, in chain rx. Retention deletes it.
let r = securityCase('sast', 'failure', 'rx');
t.check(r.status === 202, 'the failed security case is accepted', r.body);
const sastSeq = r.json?.seq;
// Release Z: its build in rz, which retention deletes with rx's rows.
r = hook('build', { phase: 'finished', subject: 'b-z', artifactId: Z, chainId: 'rz' });
t.check(r.status === 202, 'Z\'s build in rz is accepted', r.body);
const zBuildSeq = r.json?.seq;
const gone = await waitFor(() => inChain('rx').length === 0 && inChain('rz').length === 0, 15000, { every: 100 });
t.check(gone, 'retention deletes them (max_age 4s)', JSON.stringify(inChain('rx')) + JSON.stringify(inChain('rz')));
const cut = auditSql(d.stateDir, "SELECT chain_id || ' ' || last_deleted_seq FROM retired_chains WHERE chain_id = 'rx'");
t.check(cut.status === 0 && cut.stdout.trim() === `rx ${sastSeq ?? 1}`,
  'and names rx in retired_chains with the last seq it deleted of it', cut.stdout + cut.stderr);

// What is left of rx: a dast success and the build. Judged on that, X would pass.
t.check(securityCase('dast', 'success', 'rx').status === 202, 'a passing dast scan in rx is accepted');
t.check(hook('build', { phase: 'finished', subject: 'b-x', artifactId: X, chainId: 'rx' }).status === 202,
  'X\'s build in rx is accepted');
r = gate('qa', X);
const notJudged = `retention deleted events of chain rx (up to seq ${sastSeq ?? 1})`;
t.check(r.status === 200 && r.json?.decision === 'deny' &&
  r.json?.reason === `evidence retired: ${notJudged}; the gate does not judge it`,
  'a gate over a chain retention has cut denies without judging, and says why', r.body);
t.check(r.json?.requirements?.length === 2 &&
  r.json.requirements.every((q) => q.met === false && q.reason === `not judged: ${notJudged}`),
  'each requirement is not met, not judged', r.body);
r = hook('deploy', { phase: 'deployed', subject: 'etl', environment: 'prod', artifactId: X, chainId: 'rx' });
t.check(r.status === 409 && r.json?.details?.some((e) => e.reason.includes(notJudged)),
  'an enforced deployment of X is refused 409 with that reason', r.body);

// R1: rz's failed sast run stays, but rz no longer names Z; a reproducible
// build of Z in rw with a passing scan would pass alone.
t.check(securityCase('sast', 'failure', 'rz').status === 202, 'rz\'s failed security case is accepted');
t.check(hook('build', { phase: 'finished', subject: 'b-z2', artifactId: Z, chainId: 'rw' }).status === 202,
  'Z\'s second build, in rw, is accepted');
t.check(securityCase('dast', 'success', 'rw').status === 202, 'rw\'s passing scan is accepted');
const zCut = auditSql(d.stateDir, `SELECT last_deleted_seq FROM retired_artifacts WHERE artifact_id = '${Z}'`);
t.check(zCut.status === 0 && zCut.stdout.trim() === `${zBuildSeq ?? 2}`,
  'retention names Z in retired_artifacts with the last seq it deleted of it', zCut.stdout + zCut.stderr);
r = gate('qa', Z);
const zNotJudged = `retention deleted events naming the artifact (up to seq ${zBuildSeq ?? 2})`;
t.check(r.status === 200 && r.json?.decision === 'deny' &&
  r.json?.reason === `evidence retired: ${zNotJudged}; the gate does not judge it` &&
  r.json?.requirements?.every((q) => q.met === false && q.reason === `not judged: ${zNotJudged}`),
  'a gate over an artifact retention has deleted events naming denies without judging, and says why', r.body);
r = hook('deploy', { phase: 'deployed', subject: 'etl', environment: 'prod', artifactId: Z, chainId: 'rw' });
t.check(r.status === 409 && r.json?.details?.some((e) => e.reason.includes(zNotJudged)),
  'an enforced deployment of Z is refused 409 with that reason', r.body);

// Release Y, in a chain retention has not cut: judged as before (asked at
// once, well inside max_age).
t.check(securityCase('dast', 'success', 'ry').status === 202, 'Y\'s passing scan is accepted');
t.check(hook('build', { phase: 'finished', subject: 'b-y', artifactId: Y, chainId: 'ry' }).status === 202,
  'Y\'s build is accepted');
r = gate('qa', Y);
t.check(r.json?.decision === 'allow' && r.json?.reason === undefined, 'a release whose chain is whole is judged: allow',
  r.body);

t.check(await d.stop() === 0, 'the daemon stops cleanly');
t.finish();
