// Releases: the chains of the log newest first, 25 a page (GET
// /v1/chains, which filters by service and environment and by time
// received), each read whole for its facts; the outcome filter applies to
// the page shown. The first page is read again every 10 s while live
// refresh is on. "Older →" carries the first page's head with the next
// page's start, so a release that gets an event meanwhile is not skipped.
import { enc, get } from './api.js';
import { h, link, seconds, when } from './dom.js';
import { release } from './facts.js';

const PAGE = 25;
const LIVE_MS = 10000;

async function load(params) {
  let q = `/v1/chains?limit=${PAGE}`;
  const map = { service: 'subject', environment: 'environment', since: 'since', until: 'until', after: 'after',
    head: 'head' };
  for (const [k, api] of Object.entries(map)) if (params.get(k)) q += `&${api}=${enc(params.get(k))}`;
  const page = await get(q);
  const all = await Promise.all(page.chains.map(async (c) =>
    release(c.chainId, (await get(`/v1/chains/${enc(c.chainId)}`)).events)));
  return { all, next: page.nextAfter, head: page.head, scanned: page.scanned };
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
  let { all, next, head, scanned } = await load(params);
  const uniq = (k) => [...new Set([...all.map((r) => r[k]), params.get(k)].filter(Boolean))].sort();
  const filtered = () => all.filter((r) => !params.get('outcome') || r.outcome === params.get('outcome'));
  const from = Math.max(0, Number(params.get('from') ?? 0) | 0);
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
  const live = h('input', { type: 'checkbox', id: 'live', checked: !params.get('after') });
  const holder = h('div', { class: 'table-wrap' });
  const nav = h('nav', { class: 'pager', 'aria-label': 'Pages of releases' });
  const note = h('p', { class: 'status', role: 'status' });
  const to = (changes) => {
    const q = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) if (v === null) q.delete(k); else q.set(k, v);
    return `#/releases?${q}`;
  };
  const draw = () => {
    const rows = filtered();
    holder.replaceChildren(rows.length ? table(rows)
      : h('p', {}, 'No release matches (a release is the events of one chainId).'));
    nav.replaceChildren(
      params.get('after') ? link(to({ after: null, head: null, from: null }), '← Newest') : '',
      ` ${all.length ? `${from + 1}–${from + all.length}` : 'none'}` +
        `${params.get('outcome') ? ` (${rows.length} ${params.get('outcome')})` : ''} `,
      next !== null ? link(to({ after: next, head: head ?? null, from: from + all.length }), 'Older →') : '');
    stamp();
  };
  const stamp = () => {
    note.textContent = `${all.length} release${all.length === 1 ? '' : 's'} from ${scanned} events read; ` +
      `read at ${new Date().toISOString().slice(11, 19)} UTC.`;
  };
  draw();
  const timer = setInterval(async () => {
    if (!live.checked || params.get('after')) return;
    try {
      const fresh = await load(params);
      /* Redrawn only when something changed: a person's focus and a
       * reader's place in the table stay where they are. */
      const sig = (rs) => rs.map((r) => `${r.chainId}:${r.lastSeq}`).join();
      if (sig(fresh.all) === sig(all)) return stamp();
      ({ all, next, head, scanned } = fresh);
      draw();
    } catch { live.checked = false; note.textContent = 'Live refresh stopped: the API did not answer.'; }
  }, LIVE_MS);
  const node = h('section', {},
    h('h1', { tabindex: '-1' }, 'Releases'),
    form,
    h('p', {}, live, ' ', h('label', { for: 'live' }, 'Live refresh of the newest (every 10 s)')),
    note, holder, nav);
  return { title: 'Releases', node, cleanup: () => clearInterval(timer) };
}
