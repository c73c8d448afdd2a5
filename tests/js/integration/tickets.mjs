// Change tickets from events (README "Change tickets"): with `tickets:`, a
// deployment accepted in a configured environment gets a ticket.created in
// its chain (summary, the artifact, the gate's decision, links), and the
// chain's pipeline run finishing closes it with a ticket.closed; every such
// event passes ajv on the official v0.5.1 schemas.
//
//   node tests/js/integration/tickets.mjs path/to/cdeventsd
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, postJson, curl, checker, waitFor } from '../daemon.mjs';
import { oracle } from '../oracle.mjs';

const t = checker();
const bin = process.argv[2];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-tickets-'));
const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `tickets:
  environments: [prod]
gates:
  prod:
    require:
      - build: true
`);
const d = await startDaemon(bin, ['-c', cfg]);
const ajv = oracle('v0.5.1');
const ART = 'pkg:oci/etl@sha256%3Aabc777';
const hook = (kind, body) => postJson(`${d.url}/v1/hooks/${kind}`, body);
const chainEvents = (chain) => curl([`${d.url}/v1/chains/${chain}`]).json?.events ?? [];
const ofType = (chain, type) => chainEvents(chain).filter((e) => e.event.context.type.startsWith(type));

hook('build', { phase: 'finished', subject: 'etl-build-7', artifactId: ART, chainId: 'release-7' });
const decision = curl([`${d.url}/v1/gates/prod?artifact=${encodeURIComponent(ART)}`]).json;
t.check(decision?.decision === 'allow', 'the gate allows the release', JSON.stringify(decision));
const deployed = hook('deploy', { phase: 'deployed', subject: 'etl', environment: 'prod', artifactId: ART, chainId: 'release-7' });
t.check(deployed.status === 202, 'the deployment to prod is accepted', deployed.body);
const staged = hook('deploy', { phase: 'deployed', subject: 'etl', environment: 'stage', artifactId: ART, chainId: 'release-7' });

const created = (await waitFor(() => ofType('release-7', 'dev.cdevents.ticket.created').at(0)))?.event;
t.check(created?.subject?.id === `change/${deployed.json?.id}`, 'a ticket.created for the deployment joins its chain',
  JSON.stringify(created));
const content = created?.subject?.content ?? {};
t.check(content.summary === `Deploy ${ART} (etl) to prod` && content.ticketType === 'change' && content.creator === 'anonymous' &&
  content.uri === `/v1/events/${deployed.json?.id}` && content.labels?.includes('gate:allow'),
  'it says what was deployed where, by whom, and where to read it', JSON.stringify(content));
t.check(created?.customData?.gate?.decision === 'allow' && created.customData.gate.seq === decision?.event?.seq &&
  created.customData.deployment?.seq === deployed.json?.seq && created.customData.deployment.artifactId === ART,
  'it carries the gate\'s decision and the deployment, with their seqs', JSON.stringify(created?.customData));
t.check(created?.context?.links?.some((l) => l.linkType === 'RELATION' && l.linkKind === 'deployment' &&
  l.target.contextId === deployed.json?.id) && created.context.links.some((l) => l.linkKind === 'gate-decision' &&
  l.target.contextId === decision?.event?.id), 'it links the deployment and the decision', JSON.stringify(created?.context?.links));

const finished = hook('pipeline', { phase: 'finished', subject: 'release-7-run', pipelineName: 'spark-release', outcome: 'success',
  chainId: 'release-7' });
t.check(finished.status === 202, 'the release\'s pipeline run finishes', finished.body);
const closed = (await waitFor(() => ofType('release-7', 'dev.cdevents.ticket.closed').at(0)))?.event;
t.check(closed?.subject?.id === created?.subject?.id && closed.subject.content.resolution === 'completed' &&
  closed.context.links.some((l) => l.linkKind === 'pipelinerun' && l.target.contextId === finished.json?.id),
  'a ticket.closed, resolution completed, follows the pipeline run\'s end', JSON.stringify(closed));
t.check(staged.status === 202 && ofType('release-7', 'dev.cdevents.ticket.created').length === 1,
  'a deployment to an environment without tickets opens none');

// No gate asked, and the run fails: the ticket says both.
hook('deploy', { phase: 'deployed', subject: 'etl', environment: 'prod', artifactId: `${ART}8`, chainId: 'release-8' });
const c8 = (await waitFor(() => ofType('release-8', 'dev.cdevents.ticket.created').at(0)))?.event;
t.check(c8?.customData?.gate === null && c8.subject.content.labels.includes('gate:not-asked'),
  'a deployment no gate was asked about says so', JSON.stringify(c8?.customData));
hook('pipeline', { phase: 'finished', subject: 'release-8-run', pipelineName: 'spark-release', outcome: 'failure', chainId: 'release-8' });
const x8 = (await waitFor(() => ofType('release-8', 'dev.cdevents.ticket.closed').at(0)))?.event;
t.check(x8?.subject?.content?.resolution === 'failure', 'a failed run closes its ticket with resolution failure',
  JSON.stringify(x8?.subject?.content));
// Another run finishing in the chain closes nothing twice.
hook('pipeline', { phase: 'finished', subject: 'release-8-rerun', pipelineName: 'spark-release', outcome: 'success',
  chainId: 'release-8' });
// Tickets are read and written in order: once a later deployment's ticket
// is in, the rerun's answer (nothing to close) has been given.
hook('deploy', { phase: 'deployed', subject: 'etl', environment: 'prod', artifactId: `${ART}9`, chainId: 'release-9' });
await waitFor(() => ofType('release-9', 'dev.cdevents.ticket.created').length);
t.check(ofType('release-8', 'dev.cdevents.ticket.closed').length === 1, 'a closed ticket is not closed again');

const tickets = [...chainEvents('release-7'), ...chainEvents('release-8')].filter((e) => e.event.context.type.includes('.ticket.'));
const bad = tickets.filter((e) => !ajv(e.event).valid);
t.check(tickets.length === 4 && !bad.length, 'the 4 ticket events pass ajv on the official schemas',
  JSON.stringify(bad.map((e) => ajv(e.event).errors)));

const badCfg = path.join(dir, 'bad.yaml');
fs.writeFileSync(badCfg, 'tickets:\n  environments: []\n  summary: x\n');
const check = spawnSync(bin, ['--check-config', badCfg], { encoding: 'utf8' });
const said = check.stdout + check.stderr;
t.check(check.status !== 0 && said.includes(`${badCfg}: /tickets/environments: must be a non-empty list`) &&
  said.includes(`${badCfg}: /tickets/summary: unknown key`), '--check-config names each mistake in tickets: at its pointer', said);

t.check(await d.stop() === 0, 'the daemon stops cleanly');
t.finish();
