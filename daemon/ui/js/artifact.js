// An artifact: everything the log holds about one image across releases
// (its build, packaging, publication, deployments, the incidents naming
// it), the gate decisions logged for it, and where it runs now, from what
// runs where per environment.
import { allEvents, enc, get } from './api.js';
import { h, link, when } from './dom.js';
import { facts } from './facts.js';
import { outcomeBadge } from './releases.js';

export async function render(artifactId) {
  const recs = await allEvents(`/v1/events?artifactId=${enc(artifactId)}&limit=1000`);
  const fs = recs.map(facts);
  const envs = [...new Set(fs.filter((f) => f.kind === 'service' && f.environment).map((f) => f.environment))].sort();
  const running = [];
  for (const env of envs) {
    const now = await get(`/v1/environments/${enc(env)}`);
    for (const s of now.services ?? []) if (s.artifactId === artifactId) running.push({ env, ...s });
  }
  const chainOf = (r) => r.event?.context?.chainId;
  /* Decisions already logged: asking a gate here would log one more. */
  const gates = fs.filter((f) => f.kind === 'gate' && f.decision);
  const node = h('section', {},
    h('h1', { tabindex: '-1' }, 'Artifact'),
    h('p', { class: 'artifact-id' }, artifactId),
    h('h2', {}, 'Where it runs now'),
    running.length
      ? h('ul', {}, running.map((s) => h('li', {}, `${s.service} in ${s.env}, since ${when(s.since)} `,
        s.chainId ? ['(release ', link(`#/release/${enc(s.chainId)}`, s.chainId), ')'] : '')))
      : h('p', {}, 'Nowhere the log knows of: no environment runs it now.'),
    h('h2', {}, 'Promotion gates'),
    gates.length ? h('table', { class: 'gates' },
      h('caption', {}, 'Each gate decision the log holds for this artifact, oldest first'),
      h('thead', {}, h('tr', {}, ['Seq', 'Decided (UTC)', 'Environment', 'Decision', 'Asked by', 'Unmet requirements']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, gates.map((f) => h('tr', { class: f.failed ? 'failed' : null, 'data-seq': f.seq },
        h('td', { class: 'num' }, String(f.seq)),
        h('td', {}, when(f.receivedAt)),
        h('th', { scope: 'row' }, f.environment ?? '—'),
        h('td', {}, outcomeBadge(f.decision)),
        h('td', {}, f.principal),
        h('td', {}, f.unmet.length ? f.unmet.join('; ') : 'none')))))
      : h('p', {}, 'No gate was asked about this artifact.'),
    h('h2', {}, `History (${fs.length} events)`),
    fs.length ? h('table', {},
      h('caption', {}, 'What happened to this artifact, oldest first'),
      h('thead', {}, h('tr', {}, ['Seq', 'Received (UTC)', 'Event', 'Subject', 'Outcome', 'Release']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, fs.map((f, i) => h('tr', { class: f.failed ? 'failed' : null },
        h('td', { class: 'num' }, String(f.seq)),
        h('td', {}, when(f.receivedAt)),
        h('th', { scope: 'row' }, `${f.kind} ${f.phase}`),
        h('td', {}, f.subject),
        h('td', {}, f.outcome ? outcomeBadge(f.outcome) : f.failed ? outcomeBadge('failure') : '—'),
        h('td', {}, chainOf(recs[i]) ? link(`#/release/${enc(chainOf(recs[i]))}`, chainOf(recs[i])) : '—')))))
      : h('p', {}, 'The log holds nothing about this artifact.'));
  return { title: 'Artifact', node };
}
