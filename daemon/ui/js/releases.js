// Releases: the chains of the newest events, one row each, filtered by
// service, environment, outcome and time received, 25 a page, read again
// every 10 s while live refresh is on.
import { allEvents, enc } from './api.js';
import { h, link, seconds, when } from './dom.js';
import { release } from './facts.js';

const PAGE = 25;
const EVENTS_READ = 5000;
const LIVE_MS = 10000;

async function load(params) {
  let q = `/v1/events?order=desc&limit=1000`;
  for (const k of ['since', 'until']) if (params.get(k)) q += `&${k}=${enc(params.get(k))}`;
  const recs = await allEvents(q, EVENTS_READ);
  const chains = new Map();
  for (const r of recs) {
    const id = r.event?.context?.chainId;
    if (!id) continue;
    if (!chains.has(id)) chains.set(id, []);
    chains.get(id).push(r);
  }
  const all = [...chains].map(([id, rs]) => release(id, rs)).sort((a, b) => b.lastSeq - a.lastSeq);
  return { all, read: recs.length };
}

export function outcomeBadge(outcome) {
  const mark = { success: '✓', allow: '✓', failure: '✗', deny: '✗', running: '…' }[outcome] ?? '?';
  return h('span', { class: `badge ${outcome}` }, `${mark} ${outcome}`);
}

export function shortArtifact(a) {
  if (!a) return '—';
  const m = /^pkg:oci\/([^@]+)@sha256%3A([0-9a-f]{12})/.exec(a);
  return m ? `${m[1]}@sha256:${m[2]}…` : a;
}

function table(rows) {
  return h('table', { class: 'releases' },
    h('caption', {}, 'Releases, newest first'),
    h('thead', {}, h('tr', {}, ['Release', 'Pipeline', 'Artifact', 'Service', 'Environment', 'Outcome',
      'Started (UTC)', 'Duration', 'Events'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((r) => h('tr', { 'data-chain': r.chainId },
      h('th', { scope: 'row' }, link(`#/release/${enc(r.chainId)}`, r.chainId)),
      h('td', {}, r.pipeline ?? '—'),
      h('td', {}, r.artifact ? link(`#/artifact/${enc(r.artifact)}`, shortArtifact(r.artifact), { title: r.artifact }) : '—'),
      h('td', {}, r.service ?? '—'),
      h('td', {}, r.environment ?? '—'),
      h('td', {}, outcomeBadge(r.outcome)),
      h('td', {}, when(new Date(r.start).toISOString())),
      h('td', { class: 'num' }, seconds((r.end - r.start) / 1000)),
      h('td', { class: 'num' }, String(r.events.length))))));
}

function select(name, label, values, current) {
  return h('label', {}, label, ' ',
    h('select', { name }, h('option', { value: '' }, 'any'),
      values.map((v) => h('option', { value: v, selected: v === current }, v))));
}

export async function render(params) {
  let { all, read } = await load(params);
  const uniq = (k) => [...new Set(all.map((r) => r[k]).filter(Boolean))].sort();
  const filtered = () => all.filter((r) => ['service', 'environment', 'outcome']
    .every((k) => !params.get(k) || r[k] === params.get(k)));
  const page = Math.max(0, Number(params.get('page') ?? 0) | 0);
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter releases' },
    select('service', 'Service', uniq('service'), params.get('service')),
    select('environment', 'Environment', uniq('environment'), params.get('environment')),
    select('outcome', 'Outcome', ['success', 'failure', 'running'], params.get('outcome')),
    h('label', {}, 'Received since ', h('input', { type: 'date', name: 'since', value: params.get('since') ?? '' })),
    h('label', {}, 'before ', h('input', { type: 'date', name: 'until', value: params.get('until') ?? '' })),
    h('button', { type: 'submit' }, 'Apply'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) p.set(k, v);
    location.hash = `#/releases?${p}`;
  });
  const live = h('input', { type: 'checkbox', id: 'live', checked: true });
  const holder = h('div', { class: 'table-wrap' });
  const nav = h('nav', { class: 'pager', 'aria-label': 'Pages of releases' });
  const note = h('p', { class: 'status', role: 'status' });
  const draw = () => {
    const rows = filtered();
    const from = Math.min(page * PAGE, Math.max(0, rows.length - 1));
    holder.replaceChildren(rows.length ? table(rows.slice(from, from + PAGE))
      : h('p', {}, 'No release matches (a release is the events of one chainId).'));
    const to = (p) => { const q = new URLSearchParams(params); q.set('page', p); return `#/releases?${q}`; };
    nav.replaceChildren(
      page > 0 ? link(to(page - 1), '← Newer') : '',
      ` ${rows.length ? from + 1 : 0}–${Math.min(from + PAGE, rows.length)} of ${rows.length} `,
      from + PAGE < rows.length ? link(to(page + 1), 'Older →') : '');
    stamp();
  };
  const stamp = () => {
    note.textContent = `From the newest ${read} events${read >= EVENTS_READ ? ' (older ones not read)' : ''}; ` +
      `read at ${new Date().toISOString().slice(11, 19)} UTC.`;
  };
  draw();
  const timer = setInterval(async () => {
    if (!live.checked) return;
    try {
      const next = await load(params);
      /* Redrawn only when something changed: a person's focus and a
       * reader's place in the table stay where they are. */
      if (next.all[0]?.lastSeq === all[0]?.lastSeq && next.all.length === all.length) return stamp();
      ({ all, read } = next);
      draw();
    } catch { live.checked = false; note.textContent = 'Live refresh stopped: the API did not answer.'; }
  }, LIVE_MS);
  const node = h('section', {},
    h('h1', { tabindex: '-1' }, 'Releases'),
    form,
    h('p', {}, live, ' ', h('label', { for: 'live' }, 'Live refresh (every 10 s)')),
    note, holder, nav);
  return { title: 'Releases', node, cleanup: () => clearInterval(timer) };
}
