// What a person looks for in a record of the log, read once: its kind
// and phase, the outcome, what failed and why, and the names a release
// is known by (pipeline, artifact, service, environment).

// "dev.cdevents.pipelinerun.started.0.3.0" -> ["pipelinerun", "started"]
export function kindPhase(type) {
  const m = /^dev\.cdevents(?:x)?\.([^.]+)\.([^.]+)\./.exec(type ?? '');
  return m ? [m[1], m[2]] : [type ?? '?', ''];
}

export function facts(rec) {
  const ev = rec.event ?? {};
  const ctx = ev.context ?? {};
  const subject = ev.subject ?? {};
  const content = subject.content ?? {};
  const [kind, phase] = kindPhase(ctx.type);
  const pod = ev.customData?.podOutcome ?? null;
  /* A gate's decision reads as an outcome: that exact type only (the
   * daemon refuses every other type of its namespace from outside). */
  const isDecision = /^dev\.cdeventsx\.cdeventsd-gate\.decided\./.test(ctx.type ?? '');
  const decision = isDecision ? content.decision ?? null : null;
  const outcome = content.outcome ?? decision;
  const failed = outcome === 'failure' || outcome === 'error' || outcome === 'deny' || kind === 'incident';
  let artifact = content.artifactId ?? null;
  if (!artifact && kind === 'artifact') artifact = subject.id;
  return {
    seq: rec.seq,
    at: Date.parse(rec.receivedAt),
    receivedAt: rec.receivedAt,
    type: ctx.type,
    id: ctx.id,
    kind: isDecision ? 'gate' : kind,
    phase,
    decision,
    unmet: (content.requirements ?? []).filter((r) => r.met === false).map((r) => r.reason ?? r.requirement),
    subject: subject.id ?? '',
    outcome,
    failed,
    errors: content.errors ?? null,
    artifact,
    environment: content.environment?.id ?? null,
    service: kind === 'service' ? subject.id : null,
    pipeline: content.pipelineName ?? null,
    remedy: pod?.remedy?.text ?? null,
    pod,
    sizing: ev.customData?.sizing ?? null,
    principal: rec.principal,
  };
}

// A release (a chain) from its records, oldest first.
export function release(chainId, recs) {
  const fs = recs.map(facts).sort((a, b) => a.seq - b.seq);
  const pick = (key, pred = () => true) => fs.find((f) => f[key] && pred(f))?.[key] ?? null;
  const finished = [...fs].reverse().find((f) => f.kind === 'pipelinerun' && f.phase === 'finished');
  const start = Math.min(...fs.map((f) => f.at));
  const end = Math.max(...fs.map((f) => f.at));
  let outcome = finished?.outcome ?? (fs.some((f) => f.failed) ? 'failure' : 'running');
  if (finished && !finished.outcome) outcome = fs.some((f) => f.failed) ? 'failure' : 'success';
  return {
    chainId,
    events: fs,
    pipeline: pick('pipeline'),
    artifact: pick('artifact'),
    service: pick('service'),
    environment: pick('environment', (f) => f.kind === 'service') ?? pick('environment'),
    outcome,
    failures: fs.filter((f) => f.failed).length,
    start,
    end,
    lastSeq: fs[fs.length - 1]?.seq ?? 0,
  };
}
