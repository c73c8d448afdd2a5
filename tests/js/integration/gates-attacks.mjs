// Promotion gates and change tickets under attack (issue 18's review): what
// a principal that may post, but should not decide, cannot do.
// - a gate question about an artifact the log does not know starts a chain
//   of its own: it never lands in the last release's chain, and the
//   artifact's later hooks are judged on their own evidence;
// - nobody posts a decision event: the type is the daemon's own;
// - a change ticket is closed by a run the deploying principal finished,
//   not by a stranger's run in the same chain;
// - `enforce: true` holds a rollback as it holds a deployment: the artifact
//   rolled back to must pass the gate;
// - with `from`, a principal outside it cannot steer a trusted hook posted
//   without a chainId into a release's chain through correlation (by
//   subject or by artifact): the hook joins that chain, the log records
//   through which event (chain_via), and the gate does not count it;
//   Jenkins building and Tekton deploying and testing one release (both
//   in `from`) still passes;
// - a trusted hook about an artifact the log does not know (a deployment
//   whose subject is the service, a build under a reused job name) does
//   not join the service's or job's last release chain, which names
//   another artifact: the gate does not count that release's tests.
//
//   node tests/js/integration/gates-attacks.mjs path/to/cdeventsd path/to/cdevctl
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, postJson, curl, checker, waitFor, auditSql } from '../daemon.mjs';

const t = checker();
const [bin] = process.argv.slice(2);
const sourceDir = process.env.CDE_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-gates-attacks-'));
const secret = (name) => {
  const token = crypto.randomBytes(24).toString('hex');
  fs.writeFileSync(path.join(dir, name), token + '\n', { mode: 0o600 });
  return ['-H', `Authorization: Bearer ${token}`];
};
const bot = secret('bot'), reader = secret('reader'), intruder = secret('intruder');
const jenkins = secret('jenkins'), tekton = secret('tekton');
// prod (enforced) and qa (asked) want the same: a build and both suites.
const releaseReady = '    require:\n      - build: true\n      - tests: {suites: [unit, data-contract], outcome: success}';
const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `principals:
  - name: release-bot
    scopes: [emit, query]
    token_file: ${dir}/bot
  - name: reader
    scopes: [query]
    token_file: ${dir}/reader
  - name: intruder
    scopes: [emit]
    token_file: ${dir}/intruder
    sources: [/intruder]
  - name: jenkins
    scopes: [emit, query]
    token_file: ${dir}/jenkins
  - name: tekton
    scopes: [emit, query]
    token_file: ${dir}/tekton
schemas:
  dirs: [${path.join(sourceDir, 'schemas', 'custom')}]
tickets:
  environments: [stage]
gates:
  prod:
    enforce: true
${releaseReady}
  qa:
${releaseReady}
  audited:
    from: [release-bot, jenkins, tekton]
    require:
      - build: true
      - tests: {suites: [data-contract], outcome: success}
  tested:
    from: [release-bot]
    require:
      - tests: {suites: [data-contract], outcome: success}
`);

const d = await startDaemon(bin, ['-c', cfg]);
const hook = (kind, body, who = bot) => postJson(`${d.url}/v1/hooks/${kind}`, body, who);
const gate = (env, artifact, who = bot) =>
  curl([...who, `${d.url}/v1/gates/${env}?artifact=${encodeURIComponent(artifact)}`]);
const chainEvents = (chain) => curl([...bot, `${d.url}/v1/chains/${chain}`]).json?.events ?? [];
const ofType = (chain, type) => chainEvents(chain).filter((e) => e.event.context.type.startsWith(type));
const X = 'pkg:oci/etl@sha256%3Aaaa', Z = 'pkg:oci/etl@sha256%3Azzz';

// Release 1 (X) passes everything.
hook('build', { phase: 'finished', subject: 'b-1', artifactId: X, chainId: 'release-1' });
for (const suite of ['unit', 'data-contract'])
  hook('test', { phase: 'finished', subject: `${suite}-1`, testSuite: suite, environment: 'ci', outcome: 'success',
    chainId: 'release-1' });
t.check(gate('qa', X).json?.decision === 'allow', 'release 1 passes the qa gate');

// Correlation follows evidence, never the daemon's own events: a hook
// whose subject happens to be a gate's (gates/qa, whose last decision is
// in release 1's chain) does not join that chain.
const stray = hook('build', { phase: 'finished', subject: 'gates/qa', artifactId: 'pkg:oci/other@sha256%3A111' });
t.check(stray.status === 202 && stray.json?.chainId !== 'release-1',
  'correlation skips the daemon\'s own events (a decision\'s subject leads nowhere)', stray.body);

// A read-only principal asks about Z before it is built: the decision
// starts a chain of its own, and Z's build (no chainId) does not join
// release 1's chain through it.
const early = gate('qa', Z, reader);
t.check(early.json?.decision === 'deny', 'an unknown artifact is denied', early.body);
const decisions = curl([...bot, `${d.url}/v1/events?type=dev.cdeventsx.cdeventsd-gate.decided&limit=10`]).json?.events ?? [];
const zDecision = decisions.find((e) => e.event.subject.content.artifactId === Z)?.event;
t.check(zDecision && zDecision.context.chainId !== 'release-1',
  'a decision about an artifact without a chain starts its own chain, not the last decided one\'s',
  JSON.stringify(zDecision?.context));
const zBuild = hook('build', { phase: 'finished', subject: 'b-2', artifactId: Z });
t.check(zBuild.status === 202 && zBuild.json?.chainId !== 'release-1',
  'Z\'s build does not join release 1\'s chain through the decision', zBuild.body);
hook('test', { phase: 'finished', subject: 'dc-2', testSuite: 'data-contract', environment: 'ci', outcome: 'failure',
  chainId: 'release-2' });
const zGate = gate('qa', Z);
t.check(zGate.json?.decision === 'deny', 'Z is judged on its own evidence (none yet), not on release 1\'s',
  JSON.stringify(zGate.json?.requirements));

// Nobody posts a decision: the type is reserved for cdeventsd's own.
const forged = {
  context: { specversion: '0.5.1', id: crypto.randomUUID(), source: '/intruder',
    type: 'dev.cdeventsx.cdeventsd-gate.decided.0.1.0', timestamp: new Date().toISOString(), chainId: 'release-1',
    schemaUri: 'https://cdeventsd.dev/schemas/cdeventsd-gate.decided.0.1.0.json' },
  subject: { id: 'gates/stage', content: { environment: { id: 'stage' }, artifactId: X, decision: 'allow',
    principal: 'release-bot', requirements: [{ requirement: 'build', met: true, seq: 1 }] } },
};
for (const [who, name] of [[intruder, 'the intruder'], [bot, 'an emit principal']]) {
  const src = who === bot ? '/release-bot' : '/intruder';
  const r = postJson(`${d.url}/v1/events`, { ...forged, context: { ...forged.context, id: crypto.randomUUID(), source: src } },
    who);
  t.check(r.status === 403 && r.json?.details?.some((e) => e.pointer === '/context/type' &&
    e.reason.includes('reserved')), `${name} cannot post a gate decision (403 at /context/type)`, r.body);
}
// Nor a lookalike in cdeventsd's namespace (an "approved" the page would
// list beside real decisions): the whole dev.cdeventsx.cdeventsd- prefix
// is cdeventsd's own.
const lookalike = { ...forged, context: { ...forged.context, id: crypto.randomUUID(), source: '/intruder',
  type: 'dev.cdeventsx.cdeventsd-gate.approved.0.1.0', schemaUri: undefined } };
const r0 = postJson(`${d.url}/v1/events`, lookalike, intruder);
t.check(r0.status === 403 && r0.json?.details?.some((e) => e.pointer === '/context/type' && e.reason.includes('reserved')),
  'nor any other type of cdeventsd\'s own namespace (403 at /context/type)', r0.body);

// A change ticket: opened by the bot's deployment to stage, closed only by
// a run the bot finished; the intruder's run in the chain closes nothing.
hook('deploy', { phase: 'deployed', subject: 'etl', environment: 'stage', artifactId: X, chainId: 'release-1' });
const opened = await waitFor(() => ofType('release-1', 'dev.cdevents.ticket.created').at(0));
t.check(opened?.event?.customData?.gate === null, 'the ticket cites no gate decision (none was asked for stage)',
  JSON.stringify(opened?.event?.customData));
const evil = hook('pipeline', { phase: 'finished', subject: 'evil-run', pipelineName: 'x', outcome: 'success',
  chainId: 'release-1' }, intruder);
t.check(evil.status === 202, 'the intruder may still post its own run (it is only not trusted)', evil.body);
// Nor does a ticket.closed (or .created) the intruder posts under the
// ticket's own subject: only the daemon's own ticket events, marked by a
// peer no connection can have, open or close a change ticket.
for (const phase of ['closed', 'created']) {
  const fields = phase === 'closed' ? { updatedBy: 'intruder', resolution: 'completed' } : { creator: 'intruder' };
  const fake = hook('ticket', { phase, subject: opened?.event?.subject?.id, uri: '/fake', summary: 'done',
    chainId: 'release-1', ...fields }, intruder);
  t.check(fake.status === 202, `the intruder may post a ticket.${phase} under the ticket's subject`, fake.body);
}
t.check(opened?.peer?.startsWith('cdeventsd for '), 'the daemon\'s own ticket says so in its peer', opened?.peer);
hook('pipeline', { phase: 'finished', subject: 'release-1-run', pipelineName: 'spark-release', outcome: 'failure',
  chainId: 'release-1' });
const ownCloses = () => ofType('release-1', 'dev.cdevents.ticket.closed').filter((e) => e.principal === 'release-bot');
const closed = await waitFor(() => ownCloses().at(0));
// Tickets are read and written in order: the bot's close came after the
// intruder's, so both have been answered once it is in.
const closes = ownCloses();
t.check(closes.length === 1 && closed?.event?.subject?.content?.resolution === 'failure' &&
  closed.event.subject.content.updatedBy === 'release-bot',
  'only the deploying principal\'s run closes the ticket', JSON.stringify(closes.map((e) => e.event.subject.content)));

// enforce: a rollback to prod of an artifact never gated is held like a
// deployment and refused; one of an allowed artifact goes through.
let r = hook('deploy', { phase: 'rolledback', subject: 'etl', environment: 'prod',
  artifactId: 'pkg:oci/etl@sha256%3Anever-gated' });
t.check(r.status === 409 && r.json?.details?.some((e) => e.pointer === '/artifactId'),
  'a rollback in prod to an artifact the gate denies is 409', r.body);
r = hook('deploy', { phase: 'rolledback', subject: 'etl', environment: 'prod', artifactId: X, chainId: 'release-1' });
t.check(r.status === 202, 'a rollback in prod to an allowed artifact is accepted', r.body);
// The answer came once its decision was committed: the decision is in the
// log, ahead of the rollback it let through.
const prodLog = chainEvents('release-1');
const allowedAt = prodLog.find((e) => e.event.context.type.startsWith('dev.cdeventsx.cdeventsd-gate.decided') &&
  e.event.subject.content.environment.id === 'prod' && e.event.subject.content.decision === 'allow')?.seq;
const rollbackAt = prodLog.find((e) => e.event.context.type.startsWith('dev.cdevents.service.rolledback'))?.seq;
t.check(allowedAt && rollbackAt && allowedAt < rollbackAt,
  'the allowing decision is logged before the rollback it lets through', `${allowedAt} < ${rollbackAt}`);

// from, and correlation: an intruder's event cannot carry a trusted hook
// posted without a chainId into a release's chain as evidence. The hook
// still joins the chain (correlation follows anyone's events, as tools
// must be able to share a release), the log says through which event,
// and the gate does not count it.
const viaOf = (seq) => auditSql(d.stateDir, `SELECT coalesce(chain_via, 0) FROM events WHERE seq = ${seq}`).stdout.trim();
const A = 'pkg:oci/etl@sha256%3Aa01', B = 'pkg:oci/etl@sha256%3Ab02', C = 'pkg:oci/etl@sha256%3Ac03';
const dcRun = (phase, subject, extra = {}) => ({ phase, subject, testSuite: 'data-contract', environment: 'ci', ...extra });

// By subject: the intruder plants a run of dc-a in release A's chain; the
// bot's own run dc-a (for something else) finishes without a chainId.
hook('build', { phase: 'finished', subject: 'b-a', artifactId: A, chainId: 'release-a' });
const planted = hook('test', dcRun('started', 'dc-a', { chainId: 'release-a' }), intruder);
const steered = hook('test', dcRun('finished', 'dc-a', { outcome: 'success' }));
t.check(planted.status === 202 && steered.json?.chainId === 'release-a' && viaOf(steered.json.seq) === String(planted.json?.seq),
  'a trusted run without a chainId joins the chain an intruder planted its subject in, and the log says through which event',
  `${steered.body} via ${viaOf(steered.json?.seq)}`);
const steeredRecord = curl([...bot, `${d.url}/v1/events/${steered.json?.id}`]).json?.events?.[0];
t.check(steeredRecord?.chainVia === planted.json?.seq, 'GET /v1/events/{id} shows it too: chainVia, the event it joined through',
  JSON.stringify(steeredRecord && { seq: steeredRecord.seq, chainVia: steeredRecord.chainVia }));
let g = gate('audited', A);
t.check(g.json?.decision === 'deny' && g.json.requirements?.[1]?.met === false,
  'the gate does not count a trusted run steered into the chain by an intruder (by subject)', g.body);
// The bot's own start, then its finish without a chainId: joined through
// the bot's event, evidence.
hook('test', dcRun('started', 'dc-a2', { chainId: 'release-a' }));
const own = hook('test', dcRun('finished', 'dc-a2', { outcome: 'success' }));
g = gate('audited', A);
t.check(own.json?.chainId === 'release-a' && g.json?.decision === 'allow',
  'a run that joined through the bot\'s own event counts', g.body);

// By artifact: release W passed its tests; the intruder names B in W's
// chain, and the bot's build of B, without a chainId, joins W's chain
// through it. The build is the bot's word; W's tests are not B's.
hook('test', dcRun('finished', 'dc-w', { outcome: 'success', chainId: 'release-w' }));
const named = hook('artifact', { phase: 'published', subject: B, chainId: 'release-w' }, intruder);
const built = hook('build', { phase: 'finished', subject: 'b-b', artifactId: B });
t.check(named.status === 202 && built.json?.chainId === 'release-w' && viaOf(built.json.seq) === String(named.json?.seq),
  'a trusted build without a chainId joins the chain an intruder named its artifact in, through that event', built.body);
g = gate('audited', B);
t.check(g.json?.decision === 'deny' && g.json.requirements?.[0]?.met === true && g.json.requirements?.[1]?.met === false,
  'the gate does not take that chain\'s tests for the artifact\'s (by artifact)', g.body);

// Across tools, all in from: Jenkins builds C (a new chain), Tekton
// deploys C to stage without a chainId (joining Jenkins' chain by the
// artifact) and tests in the chain it was given.
const jb = postJson(`${d.url}/v1/hooks/build`, { phase: 'finished', subject: 'b-c', artifactId: C }, jenkins);
const td = postJson(`${d.url}/v1/hooks/deploy`, { phase: 'deployed', subject: 'etl-c', environment: 'stage', artifactId: C },
  tekton);
postJson(`${d.url}/v1/hooks/test`, dcRun('finished', 'dc-c', { outcome: 'success', chainId: td.json?.chainId }), tekton);
g = gate('audited', C);
t.check(jb.json?.chainId && td.json?.chainId === jb.json.chainId && viaOf(td.json.seq) === String(jb.json.seq) &&
  g.json?.decision === 'allow', 'Jenkins builds, Tekton deploys and tests in the chain it joined: allowed', g.body);

// No outsider needed: release V is built, tested and deployed by the bot;
// then the bot deploys U, never built nor tested, without a chainId. The
// deployment's subject is the service, V's too; U does not join V's chain
// (it names another artifact), so V's tests are not U's. Nor is a build of
// T whose subject is the job name V's build had.
const V = 'pkg:oci/etl@sha256%3Av01', U = 'pkg:oci/etl@sha256%3Au99', T = 'pkg:oci/etl@sha256%3At77';
hook('build', { phase: 'finished', subject: 'etl-v-job', artifactId: V, chainId: 'release-v' });
hook('test', dcRun('finished', 'dc-v', { outcome: 'success', chainId: 'release-v' }));
hook('deploy', { phase: 'deployed', subject: 'etl-v', environment: 'stage', artifactId: V, chainId: 'release-v' });
t.check(gate('tested', V).json?.decision === 'allow' && gate('audited', V).json?.decision === 'allow',
  'release V passes its gates');
const blind = hook('deploy', { phase: 'deployed', subject: 'etl-v', environment: 'stage', artifactId: U });
g = gate('tested', U);
t.check(blind.status === 202 && blind.json?.chainId !== 'release-v' && g.json?.decision === 'deny' &&
  g.json.requirements?.[0]?.met === false,
  'the gate for an artifact deployed without a chainId and never tested denies (V\'s tests are not its)',
  `${blind.body} ${g.body}`);
const rebuilt = hook('build', { phase: 'finished', subject: 'etl-v-job', artifactId: T });
g = gate('audited', T);
t.check(rebuilt.status === 202 && rebuilt.json?.chainId !== 'release-v' && g.json?.decision === 'deny' &&
  g.json.requirements?.[0]?.met === true && g.json.requirements?.[1]?.met === false,
  'nor does a build under a reused job name take V\'s tests: the build counts, the tests do not',
  `${rebuilt.body} ${g.body}`);
// What a chain names is what its evidence names, not the daemon's own
// events: Z's decision started a chain naming only Z; a build started there
// and finished, without a chainId, with a new artifact stays in it.
const zChain = zDecision?.context?.chainId;
const zStarted = hook('build', { phase: 'started', subject: 'b-zq', chainId: zChain });
const zFinished = hook('build', { phase: 'finished', subject: 'b-zq', artifactId: 'pkg:oci/etl@sha256%3Aq42' });
t.check(zStarted.status === 202 && zFinished.json?.chainId === zChain,
  'a decision naming another artifact does not close its chain to a new one', `${zChain} ${zFinished.body}`);

t.check(await d.stop() === 0, 'the daemon stops cleanly');

// A decision that cannot be logged lets nothing through: here the
// decision schema loaded for its schemaUri requires a member cdeventsd
// never writes, so recording it fails, and the allowed deployment is
// refused 503 rather than taken without its decision on record.
const strictDir = path.join(dir, 'strict-schemas');
fs.mkdirSync(strictDir);
const schemaFile = 'cdeventsd-gate.decided.0.1.0.json';
const strict = JSON.parse(fs.readFileSync(path.join(sourceDir, 'schemas', 'custom', schemaFile), 'utf8'));
strict.required = [...strict.required, 'neverWritten'];
fs.writeFileSync(path.join(strictDir, schemaFile), JSON.stringify(strict));
const cfg2 = path.join(dir, 'unloggable.yaml');
fs.writeFileSync(cfg2, `principals:
  - name: release-bot
    scopes: [emit, query]
    token_file: ${dir}/bot
schemas:
  dirs: [${strictDir}]
gates:
  prod:
    enforce: true
    require:
      - build: true
`);
const d2 = await startDaemon(bin, ['-c', cfg2]);
postJson(`${d2.url}/v1/hooks/build`, { phase: 'finished', subject: 'b-1', artifactId: X, chainId: 'release-1' }, bot);
r = postJson(`${d2.url}/v1/hooks/deploy`, { phase: 'deployed', subject: 'etl', environment: 'prod', artifactId: X,
  chainId: 'release-1' }, bot);
t.check(r.status === 503 && r.body.includes('could not be logged'),
  'an allowed deployment whose decision cannot be logged is refused 503', r.body);
const inProd = curl([...bot, `${d2.url}/v1/events?type=dev.cdevents.service.deployed&limit=10`]).json?.events ?? [];
t.check(inProd.length === 0, 'and is not in the log', JSON.stringify(inProd));
t.check(await d2.stop() === 0, 'that daemon stops cleanly too');
t.finish();
