// A realistic 90-day release history for the DORA keys, and the values
// those keys must have, known by construction: the plan decides each
// release's times, which deployments fail (an incident or a rollback
// within the failure window) and when each incident ends, and the
// expected keys are read off the plan's own bookkeeping, never by
// running an algorithm over the events.
//
// Services ship releases one after the other: a change merged (or, for
// some, only a build), a deployment to stage, then most go on to prod.
// A prod deployment may then see: an incident within the failure window
// (naming the service, or only the artifact), resolved or left to the
// next deployment; a rollback to the previous artifact; or an incident
// after the failure window (not a failure, but a restore time). The next
// release only comes after every signal of the last, so each signal
// belongs to the deployment before it.
//
// Every time is at least an hour before `now`, and no deployment and no
// incident start lies within 20 minutes after the start of a 7, 30 or 90
// day window ending at `now`: the daemon's own "now" comes a little
// later, and must see the same events in each window.

const H = 3600e3, M = 60e3, DAY = 24 * H;
export const WINDOWS = { '7d': 7 * DAY, '30d': 30 * DAY, '90d': 90 * DAY };

// mulberry32: a small seeded generator, so a failing run can be replayed.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The bands as the README gives them (the 2023 DORA report's cut points).
export function band(key, v) {
  if (v === null) return null;
  switch (key) {
    case 'deploymentFrequency': return v >= 1 ? 'elite' : v >= 1 / 7 ? 'high' : v >= 1 / 30 ? 'medium' : 'low';
    case 'leadTime': return v < 86400 ? 'elite' : v < 7 * 86400 ? 'high' : v < 30 * 86400 ? 'medium' : 'low';
    case 'changeFailureRate': return v <= 0.05 ? 'elite' : v <= 0.10 ? 'high' : v <= 0.15 ? 'medium' : 'low';
    case 'timeToRestore': return v < 3600 ? 'elite' : v < 86400 ? 'high' : v < 7 * 86400 ? 'medium' : 'low';
  }
  throw new Error(key);
}

function median(v) {
  if (!v.length) return null;
  const s = [...v].sort((a, b) => a - b), n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

const hex = (rand) => Array.from({ length: 64 }, () => Math.floor(rand() * 16).toString(16)).join('');

export function planHistory({ now = Date.now(), seed = 18, failureWindowMs = DAY } = {}) {
  const rand = rng(seed);
  // Whole seconds, so that every duration is exact in C's doubles and JS's.
  const between = (lo, hi) => Math.round((lo + rand() * (hi - lo)) / 1000) * 1000;
  const nowMs = Math.floor(now / 1000) * 1000;
  // Deployments and incident starts keep clear of the windows' edges.
  const clear = (t) => {
    for (const w of Object.values(WINDOWS)) {
      const edge = nowMs - w;
      if (t >= edge - M && t < edge + 20 * M) return clear(edge + 21 * M);
    }
    return t;
  };
  const services = [
    { id: 'shop/api', name: 'api', gap: [2 * H, 30 * H], prodShare: 0.9 },
    { id: 'shop/web', name: 'web', gap: [12 * H, 72 * H], prodShare: 0.8 },
    { id: 'billing/worker', name: 'billing', gap: [2 * DAY, 6 * DAY], prodShare: 0.7 },
  ];
  const events = [];	// { type, time, subject, content, chainId }
  const deploys = [];	// { service, env, time, leadMs, failed }
  const incidents = [];	// { service, env, start, end }
  const running = new Map();	// "service env" -> { artifact, since, chainId, change, previous }
  const last = nowMs - H;
  const ev = (type, time, subject, content, chainId) => events.push({ type, time, subject, content, chainId });
  const place = (svc, env, artifact, time, chainId, change) => {
    const k = `${svc.id} ${env}`, cur = running.get(k);
    running.set(k, { artifact, since: time, chainId, change, previous: cur ? cur.artifact : null });
  };

  for (const svc of services) {
    let t = nowMs - 89 * DAY + between(0, 12 * H), i = 0, openIncident = null;
    for (;;) {
      i++;
      const chainId = `release-${svc.name}-${i}`, artifact = `pkg:oci/${svc.name}@sha256%3A${hex(rand)}`;
      const merged = rand() < 0.8;
      const start = t;
      if (merged) ev('change.merged', start, `pr-${svc.name}-${i}`, { repository: { id: `acme/${svc.name}` } }, chainId);
      const queued = start + (merged ? between(2 * M, 20 * M) : 0);
      ev('build.queued', queued, `build-${svc.name}-${i}`, {}, chainId);
      ev('build.finished', queued + between(5 * M, 40 * M), `build-${svc.name}-${i}`, { artifactId: artifact }, chainId);
      const stage = clear(queued + between(1 * H, 8 * H));
      const prodAt = clear(stage + between(2 * H, 60 * H));
      const toProd = rand() < svc.prodShare;
      const horizon = toProd ? prodAt + failureWindowMs + 42 * H : stage + H;
      if (horizon > last) break;
      ev('service.deployed', stage, svc.id, { environment: { id: 'stage' }, artifactId: artifact }, chainId);
      deploys.push({ service: svc.id, env: 'stage', time: stage, leadMs: stage - start, chainId });
      place(svc, 'stage', artifact, stage, chainId, 'deployed');
      let end = stage;
      if (toProd) {
        const type = rand() < 0.5 ? 'service.deployed' : 'service.upgraded';
        const previous = running.get(`${svc.id} prod`)?.artifact;
        ev(type, prodAt, svc.id, { environment: { id: 'prod' }, artifactId: artifact }, chainId);
        // signalMs: when its incident or rollback came, if any.
        const d = { service: svc.id, env: 'prod', time: prodAt, leadMs: prodAt - start, signalMs: null, chainId };
        deploys.push(d);
        place(svc, 'prod', artifact, prodAt, chainId, type.split('.')[1]);
        // The incident this release's deployment ends, left open by the
        // release before (restored by this deployment).
        if (openIncident) { openIncident.end = prodAt; openIncident = null; }
        end = prodAt;
        const roll = rand();
        if (roll < 0.18) {
          // An incident within the failure window: a failed deployment.
          const at = clear(prodAt + between(20 * M, failureWindowMs - H));
          const inc = { service: svc.id, env: 'prod', start: at, end: null, id: `inc-${svc.name}-${i}` };
          const link = rand() < 0.5 ? { service: { id: svc.id } } : { artifactId: artifact };
          ev('incident.detected', at, inc.id, { description: 'error rate above SLO', environment: { id: 'prod' }, ...link }, '');
          if (rand() < 0.7) {
            inc.end = at + between(10 * M, 30 * H);
            ev('incident.resolved', inc.end, inc.id, { environment: { id: 'prod' }, ...link }, '');
          } else {
            openIncident = inc;
          }
          incidents.push(inc);
          d.signalMs = at - prodAt;
          end = Math.max(at, inc.end ?? at);
        } else if (roll < 0.28 && previous) {
          // A rollback within the failure window: a failed deployment.
          const at = prodAt + between(10 * M, failureWindowMs - H);
          ev('service.rolledback', at, svc.id, { environment: { id: 'prod' }, artifactId: previous }, chainId);
          place(svc, 'prod', previous, at, chainId, 'rolledback');
          d.signalMs = at - prodAt;
          end = at;
        } else if (roll < 0.36) {
          // An incident after the failure window: restore time only.
          const at = clear(prodAt + failureWindowMs + between(H, 30 * H));
          const inc = { service: svc.id, env: 'prod', start: at, end: at + between(30 * M, 8 * H), id: `inc-${svc.name}-${i}` };
          ev('incident.detected', at, inc.id, { description: 'latency', environment: { id: 'prod' }, service: { id: svc.id } }, '');
          ev('incident.resolved', inc.end, inc.id, { environment: { id: 'prod' }, service: { id: svc.id } }, '');
          incidents.push(inc);
          d.signalMs = at - prodAt;
          end = inc.end;
        }
      }
      t = end + between(...svc.gap);
    }
  }
  return { now: nowMs, failureWindowMs, events, deploys, incidents, running };
}

// The keys each service and environment must show over @windowMs ending
// at plan.now, from the plan's bookkeeping, for a failure window of
// @failureWindowMs (the plan's unless another is asked about).
// @until: the window ends then (GET /v1/dora?until=), which sees nothing
// after it: a failure signalled later, or an incident resolved later, is
// not known yet.
export function expectedKeys(plan, windowMs, failureWindowMs = plan.failureWindowMs, until = plan.now) {
  const failed = (d) => d.signalMs != null && d.signalMs <= failureWindowMs && d.time + d.signalMs <= until;
  const inWindow = (t) => t > until - windowMs && t <= until;
  const pairs = new Map();
  for (const d of plan.deploys) {
    const k = `${d.service} ${d.env}`;
    if (!pairs.has(k)) pairs.set(k, { service: d.service, environment: d.env, deploys: [], restores: [] });
    if (inWindow(d.time)) pairs.get(k).deploys.push(d);
  }
  for (const inc of plan.incidents)
    if (inWindow(inc.start) && inc.end !== null && inc.end <= until) pairs.get(`${inc.service} ${inc.env}`).restores.push((inc.end - inc.start) / 1000);
  return [...pairs.values()].sort((a, b) => (a.service + ' ' + a.environment < b.service + ' ' + b.environment ? -1 : 1))
    .map((p) => {
      const n = p.deploys.length, nFailed = p.deploys.filter(failed).length;
      const perDay = n * 86400 / (windowMs / 1000);
      const lead = median(p.deploys.map((d) => d.leadMs / 1000));
      const ratio = n ? nFailed / n : null, restore = median(p.restores);
      return {
        service: p.service, environment: p.environment,
        deploymentFrequency: { deployments: n, perDay, band: band('deploymentFrequency', perDay) },
        leadTime: { medianSeconds: lead, samples: n, band: band('leadTime', lead) },
        changeFailureRate: { failed: nFailed, deployments: n, ratio, band: band('changeFailureRate', ratio) },
        timeToRestore: { medianSeconds: restore, samples: p.restores.length, band: band('timeToRestore', restore) },
      };
    });
}

// The plan's events as CDEvents 0.5.1, in the order a late poster might
// send them (shuffled by the seed), with their past timestamps.
export function cdevents(plan, seed = 18) {
  const versions = { 'change.merged': '0.3.0', 'build.queued': '0.3.0', 'build.finished': '0.3.0',
    'service.deployed': '0.3.0', 'service.upgraded': '0.3.0', 'service.rolledback': '0.3.0',
    'incident.detected': '0.3.0', 'incident.resolved': '0.3.0' };
  const rand = rng(seed + 1);
  const out = plan.events.map((e, i) => ({
    context: {
      specversion: '0.5.1', id: `dora-${i}`, source: e.type.startsWith('incident') ? '/monitoring/prod' : '/ci/jenkins',
      type: `dev.cdevents.${e.type}.${versions[e.type]}`, timestamp: new Date(e.time).toISOString(),
      ...(e.chainId ? { chainId: e.chainId } : {}),
    },
    subject: { id: e.subject, content: e.content },
  }));
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
