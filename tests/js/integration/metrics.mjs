// GET /metrics: Prometheus text that promtool accepts, with the daemon's
// requests, events and journal, the sinks' deliveries, and the pipeline
// SLOs derived from the events: run durations and outcomes, requested
// CPU- and GiB-seconds from the sizing metadata, pod outcomes, deployments
// per environment. Label cardinality stays bounded.
//
//   node tests/js/integration/metrics.mjs path/to/cdeventsd path/to/cdevctl
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startDaemon, postJson, curl, checker, waitFor } from '../daemon.mjs';

const t = checker();
const [bin] = process.argv.slice(2, 4);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-metrics-'));

const receiver = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(204); res.end(); }); });
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `sinks:\n  - name: lake\n    type: webhook\n    url: http://127.0.0.1:${receiver.address().port}/\n` +
  `routes:\n  - sinks: [lake]\nmetrics:\n  price_cpu_hour: 0.05\n  price_gib_hour: 0.01\n`);
const d = await startDaemon(bin, ['-c', cfg]);
const hook = (kind, p) => postJson(`${d.url}/v1/hooks/${kind}`, p);
const event = (type, subject, content, extra = {}) => postJson(`${d.url}/v1/events`, {
  context: { specversion: '0.5.1', id: `${type}-${subject}-${Math.random()}`, source: '/metrics-test', type,
    timestamp: extra.timestamp ?? new Date().toISOString() },
  subject: { id: subject, content }, ...(extra.customData ? { customData: extra.customData } : {}),
});

// A Spark release: a pipeline run of 10 minutes asking for 10 cores and 40 GiB.
const t0 = Date.parse('2026-11-20T10:00:00Z');
let r = event('dev.cdevents.pipelinerun.started.0.3.0', 'run-1', { pipelineName: 'etl-nightly', uri: 'https://ci/run-1' },
  { timestamp: new Date(t0).toISOString(), customData: { sizing: { totals: { pods: 5, cpuRequest: 10, memoryRequestMiB: 40960 } } } });
t.check(r.status === 202, 'pipelinerun.started accepted', r.body);
r = event('dev.cdevents.pipelinerun.finished.0.3.0', 'run-1', { pipelineName: 'etl-nightly', outcome: 'success' },
  { timestamp: new Date(t0 + 600000).toISOString() });
t.check(r.status === 202, 'pipelinerun.finished accepted', r.body);
// A task that fails after 30 s.
event('dev.cdevents.taskrun.started.0.3.0', 'task-1', { taskName: 'spark-submit', uri: 'https://ci/task-1', pipelineRun: { id: 'run-1' } },
  { timestamp: new Date(t0).toISOString() });
event('dev.cdevents.taskrun.finished.0.3.0', 'task-1', { taskName: 'spark-submit', outcome: 'failure' },
  { timestamp: new Date(t0 + 30000).toISOString() });
// Deployments and a pod incident.
hook('deploy', { phase: 'deployed', subject: 'etl-job', environment: 'prod', artifactId: 'pkg:oci/etl@1' });
hook('deploy', { phase: 'deployed', subject: 'etl-job', environment: 'prod', artifactId: 'pkg:oci/etl@2' });
hook('deploy', { phase: 'upgraded', subject: 'etl-job', environment: 'dev', artifactId: 'pkg:oci/etl@2' });
r = event('dev.cdevents.incident.detected.0.3.0', 'inc-1', { description: 'executor OOMKilled', environment: { id: 'prod' } },
  { customData: { podOutcome: { reason: 'OOMKilled', sparkRole: 'executor' } } });
t.check(r.status === 202, 'incident.detected accepted', r.body);
// A refusal and a duplicate.
t.check(hook('build', { phase: 'started' }).status === 400, 'a bad hook is refused');
t.check(hook('incident', { phase: 'detected', subject: 'inc-9' }).status === 400, 'a bad incident hook too');
const dup = hook('build', { phase: 'started', subject: 'b-1', id: 'same-id' });
hook('build', { phase: 'started', subject: 'b-1', id: 'same-id' });
t.check(dup.status === 202, 'a build hook accepted');
// The scrape is read once the 9 deliveries show in it (the delivery
// engine refreshes its status once a second).
let res, text;
const scrape = () => {
  res = curl(['-i', `${d.url}/metrics`]);
  text = res.body.slice(res.body.indexOf('\r\n\r\n') + 4);
  return value('cdeventsd_sink_delivered_total{sink="lake"}') === 9 && value('cdeventsd_sink_lag_events{sink="lake"}') === 0;
};
await waitFor(scrape, 10000, { every: 100 });
t.check(res.status === 200 && /content-type: text\/plain; version=0\.0\.4/i.test(res.body), 'GET /metrics answers Prometheus text', res.body.slice(0, 300));
fs.writeFileSync(path.join(dir, 'metrics.txt'), text);
function value(series) {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : undefined;
}

// promtool, Prometheus' own linter (scripts/install-deps unpacks it).
const promtool = [process.env.CDE_SOURCE_DIR && path.join(process.env.CDE_SOURCE_DIR, 'tests/.tools/promtool'), 'promtool']
  .find((p) => p && spawnSync(p, ['--version']).status === 0);
const lint = promtool ? spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' }) : null;
t.check(lint && lint.status === 0 && !lint.stdout.trim() && !lint.stderr.trim(),
  'promtool check metrics finds no problem', lint ? lint.stdout + lint.stderr : 'promtool not found: run scripts/install-deps');

t.check(value('cdeventsd_http_requests_total{route="/v1/hooks/deploy",method="POST",status="202"}') === 3, 'requests by route, method and status');
t.check(value('cdeventsd_events_rejected_total{route="/v1/hooks/build",status="400"}') === 1, 'rejections by route and status');
t.check(value('cdeventsd_events_rejected_total{route="/v1/hooks/incident",status="400"}') === 1,
  'every hook kind is a route label of its own (bounded: unknown kinds are /v1/hooks/other)');
t.check(value('cdeventsd_events_duplicate_total') === 1, 'duplicates');
t.check(value('cdeventsd_events_accepted_total{type="dev.cdevents.service.deployed.0.3.0"}') === 2, 'events accepted by type');
t.check(value('cdeventsd_journal_commits_total') >= 1 && value('cdeventsd_journal_commit_events_count') >= 1, 'journal commits and batch sizes');
t.check(value('cdeventsd_journal_ready') === 1 && value('cdeventsd_journal_size_bytes') > 0, 'journal readiness and size');
t.check(value('cdeventsd_sink_delivered_total{sink="lake"}') === 9 && value('cdeventsd_sink_lag_events{sink="lake"}') === 0 &&
  value('cdeventsd_sink_cursor_lag_events{sink="lake"}') === 0,
  'deliveries and lag per sink', String(value('cdeventsd_sink_delivered_total{sink="lake"}')));
t.check(value('cdeventsd_sink_delivery_latency_seconds_count{sink="lake"}') === 9, 'commit-to-delivery latency histogram');
t.check(value('cdeventsd_run_duration_seconds_sum{kind="pipeline",name="etl-nightly"}') === 600 &&
  value('cdeventsd_run_duration_seconds_bucket{kind="pipeline",name="etl-nightly",le="600"}') === 1 &&
  value('cdeventsd_run_duration_seconds_bucket{kind="pipeline",name="etl-nightly",le="300"}') === 0,
  'run duration from started to finished');
t.check(value('cdeventsd_runs_total{kind="pipeline",name="etl-nightly",outcome="success"}') === 1 &&
  value('cdeventsd_runs_total{kind="task",name="spark-submit",outcome="failure"}') === 1, 'runs by outcome');
t.check(value('cdeventsd_run_cpu_seconds_requested_total{kind="pipeline",name="etl-nightly"}') === 6000 &&
  value('cdeventsd_run_memory_gib_seconds_requested_total{kind="pipeline",name="etl-nightly"}') === 24000,
  'requested CPU-seconds and GiB-seconds from the sizing metadata');
// (10 cores x 0.05 + 40 GiB x 0.01) per hour, for 10 minutes: 0.15.
t.check(Math.abs(value('cdeventsd_run_cost_total{kind="pipeline",name="etl-nightly"}') - 0.15) < 1e-9,
  'and their cost at the configured prices', String(value('cdeventsd_run_cost_total{kind="pipeline",name="etl-nightly"}')));
t.check(value('cdeventsd_deployments_total{environment="prod",action="deployed"}') === 2 &&
  value('cdeventsd_deployments_total{environment="dev",action="upgraded"}') === 1, 'deployments per environment');
t.check(value('cdeventsd_pod_outcomes_total{reason="OOMKilled",role="executor"}') === 1, 'pod outcomes by reason and role');

// Cardinality: 300 pipeline names, at most 200 series, the rest "other".
// (fetch, not curl: a synchronous loop would stop this process from
// reading the daemon's log, whose pipe would then fill and block it.)
for (let i = 0; i < 300; i++) {
  const res = await fetch(`${d.url}/v1/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ context: { specversion: '0.5.1', id: `many-${i}`, source: '/metrics-test',
      type: 'dev.cdevents.pipelinerun.finished.0.3.0', timestamp: new Date().toISOString() },
    subject: { id: `many-${i}`, content: { pipelineName: `p-${i}`, outcome: 'success' } } }) });
  await res.text();
}
const after = curl([`${d.url}/metrics`]).body;
const series = after.split('\n').filter((l) => l.startsWith('cdeventsd_runs_total{')).length;
t.check(series <= 200 && after.includes('cdeventsd_runs_total{kind="other",name="other",outcome="other"}'),
  `label cardinality is capped (${series} series, the rest folded into "other")`);
t.check(after.length < 512 * 1024, `and so is the scrape (${after.length} bytes)`);
t.check(await d.stop() === 0, 'exits 0 on SIGTERM', d.log().slice(-300));
receiver.close();
t.finish();
