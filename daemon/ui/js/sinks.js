// Sinks: each sink's state as GET /v1/sinks gives it (at most a second
// old), read-only.
import { get } from './api.js';
import { h, seconds, when } from './dom.js';

const COLS = [
  ['Sink', (s) => s.name], ['Type', (s) => s.type], ['Lease', (s) => s.lease ?? '—'],
  ['Cursor', (s) => s.cursor], ['Lag (events)', (s) => s.lagEvents], ['Lag', (s) => seconds(s.lagSeconds)],
  ['In flight', (s) => s.inFlight], ['Waiting retry', (s) => s.waitingRetry], ['Delivered', (s) => s.delivered],
  ['Retries', (s) => s.retries], ['Dead letters', (s) => s.deadLetters],
  ['Last error', (s) => (s.lastError ? `${s.lastError} (${when(s.lastErrorAt)})` : 'none')],
];

export async function render() {
  const { sinks } = await get('/v1/sinks');
  const node = h('section', {},
    h('h1', { tabindex: '-1' }, 'Sinks'),
    sinks.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', {}, 'Where events are delivered, and how far behind'),
      h('thead', {}, h('tr', {}, COLS.map(([t]) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, sinks.map((s) => h('tr', { class: s.deadLetters || s.lastError ? 'failed' : null },
        COLS.map(([, f], i) => (i === 0 ? h('th', { scope: 'row' }, String(f(s))) : h('td', {}, String(f(s))))))))))
      : h('p', {}, 'No sinks are configured: events are kept in the audit log only.'),
    h('p', { class: 'hint' }, 'Dead letters are listed and replayed with cdevctl dlq.'));
  return { title: 'Sinks', node };
}
