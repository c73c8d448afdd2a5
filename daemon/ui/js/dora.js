// DORA: the four keys per service and environment (GET /v1/dora) with
// their bands, beside a chart of deployments a day over the window,
// counted from the log's service events, and each key over time (the
// same window ending at earlier times); then the pipelines' SLOs a day.
import { allEvents, enc, get } from './api.js';
import { h, s, seconds } from './dom.js';
import { facts } from './facts.js';
import { keysOverTime, pipelineSlos, series, sloCard } from './trends.js';

const WINDOWS = ['7d', '30d', '90d'];

function band(b) {
  return h('span', { class: `band ${b ?? 'none'}` }, b ?? 'no data');
}

function chart(days, counts, label) {
  const w = 300, ht = 60, bw = w / days.length, max = Math.max(1, ...counts);
  return s('svg', { viewBox: `0 0 ${w} ${ht + 14}`, class: 'chart', role: 'img', 'aria-label': label },
    s('title', {}, label),
    counts.map((c, i) => s('rect', { x: (i * bw + 0.5).toFixed(1), width: Math.max(1, bw - 1).toFixed(1),
      y: (ht - (c / max) * ht).toFixed(1), height: ((c / max) * ht).toFixed(1), class: 'bar', 'data-count': c })),
    s('line', { x1: 0, x2: w, y1: ht, y2: ht, class: 'base' }),
    s('text', { x: 0, y: ht + 12, class: 'label' }, days[0]),
    s('text', { x: w, y: ht + 12, class: 'label end' }, days[days.length - 1]));
}

function daysBetween(since, until) {
  const out = [];
  for (let t = Date.parse(since.slice(0, 10)); t < Date.parse(until); t += 86400000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

export async function render(params) {
  const win = WINDOWS.includes(params.get('window')) ? params.get('window') : '30d';
  const d = await get(`/v1/dora?window=${win}`);
  const days = daysBetween(d.since, d.until);
  const [deployRecs, points, slos] = await Promise.all([
    allEvents(`/v1/events?type=dev.cdevents.service.deployed&since=${enc(d.since)}&limit=1000`),
    series(win, d.until),
    pipelineSlos(d.since, days),
  ]);
  const deploys = deployRecs.map(facts);
  const cards = d.services.map((x) => {
    const counts = days.map((day) => deploys.filter((f) => f.subject === x.service && f.environment === x.environment &&
      f.receivedAt.startsWith(day)).length);
    const df = x.deploymentFrequency, lt = x.leadTime, cf = x.changeFailureRate, tr = x.timeToRestore;
    return h('article', { class: 'dora' },
      h('h2', {}, `${x.service} in ${x.environment}`),
      chart(days, counts, `Deployments a day of ${x.service} in ${x.environment}, ${days[0]} to ${days[days.length - 1]}`),
      h('dl', {},
        h('dt', {}, 'Deployment frequency'),
        h('dd', {}, `${df.deployments} deployment${df.deployments === 1 ? '' : 's'}, ${df.perDay.toFixed(2)} a day `, band(df.band)),
        h('dt', {}, 'Lead time for changes'),
        h('dd', {}, `median ${seconds(lt.medianSeconds)} over ${lt.samples} `, band(lt.band)),
        h('dt', {}, 'Change failure rate'),
        h('dd', {}, cf.ratio === null ? '—' : `${(cf.ratio * 100).toFixed(1)}% (${cf.failed} of ${cf.deployments}) `, band(cf.band)),
        h('dt', {}, 'Time to restore'),
        h('dd', {}, `median ${seconds(tr.medianSeconds)} over ${tr.samples} `, band(tr.band))),
      keysOverTime(points, x.service, x.environment, win));
  });
  const node = h('section', {},
    h('h1', { tabindex: '-1' }, 'DORA keys'),
    h('nav', { class: 'windows', 'aria-label': 'Window' }, WINDOWS.map((w) =>
      h('a', { href: `#/dora?window=${w}`, 'aria-current': w === win ? 'page' : null }, w))),
    h('p', { class: 'hint' }, `From ${d.since.slice(0, 10)} to ${d.until.slice(0, 10)} (UTC); a failure counts when an ` +
      `incident comes within ${seconds(d.failureWindowSeconds)} of a deployment.`),
    cards.length ? cards : h('p', {}, 'No deployments in this window.'),
    h('h2', {}, 'Pipeline SLOs'),
    h('p', { class: 'hint' }, 'Pipeline runs that finished each day of the window, from their pipelinerun events ' +
      '(durations from started to finished, by the producer\'s timestamps).'),
    slos.length ? slos.map((p) => sloCard(p, days)) : h('p', {}, 'No pipeline run finished in this window.'));
  return { title: 'DORA', node };
}
