// Keys over time: the same window asked at several ends (GET /v1/dora's
// until=), one point per end, and pipeline SLOs a day from the log's
// pipeline runs. Drawn as small line charts with their values in a table
// beside them, for those who do not read charts.
import { allEvents, enc, get } from './api.js';
import { h, s, seconds } from './dom.js';

const DAY = 86400e3;
const POINTS = 8;

// Window ends, oldest first, one step apart, the last at @until.
export function ends(until, win) {
  const step = { '7d': DAY, '30d': 7 * DAY, '90d': 14 * DAY }[win] ?? 7 * DAY;
  const last = Date.parse(until);
  return Array.from({ length: POINTS }, (_, i) => new Date(last - (POINTS - 1 - i) * step).toISOString());
}

// GET /v1/dora for each end: [{until, services}], oldest first.
export async function series(win, until) {
  return Promise.all(ends(until, win).map(async (at) =>
    ({ until: at, services: (await get(`/v1/dora?window=${win}&until=${enc(at)}`)).services })));
}

// The four keys, each as a number a chart can draw (null: no value). A
// window where the service is not listed had no deployment: none a day,
// and no value for the other three.
export const KEYS = [
  { name: 'Deployments a day', of: (k) => (k ? k.deploymentFrequency.perDay : 0), show: (v) => v.toFixed(2) },
  { name: 'Lead time (median)', of: (k) => k?.leadTime.medianSeconds ?? null, show: seconds },
  { name: 'Change failure rate', of: (k) => k?.changeFailureRate.ratio ?? null, show: (v) => `${(v * 100).toFixed(1)}%` },
  { name: 'Time to restore (median)', of: (k) => k?.timeToRestore.medianSeconds ?? null, show: seconds },
];

// A line over @values (null: a gap), scaled to its own largest value.
export function line(values, label, dates) {
  const w = 300, ht = 50, max = Math.max(0, ...values.filter((v) => v !== null)) || 1;
  const x = (i) => (values.length === 1 ? w / 2 : (i * w) / (values.length - 1));
  const y = (v) => ht - (v / max) * (ht - 4);
  const runs = [];
  values.forEach((v, i) => {
    if (v === null) return;
    if (i === 0 || values[i - 1] === null) runs.push([]);
    runs[runs.length - 1].push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  });
  return s('svg', { viewBox: `-4 -2 ${w + 8} ${ht + 16}`, class: 'chart trend', role: 'img', 'aria-label': label },
    s('title', {}, label),
    s('line', { x1: 0, x2: w, y1: ht, y2: ht, class: 'base' }),
    runs.map((pts) => s('polyline', { points: pts.join(' '), class: 'line' })),
    values.map((v, i) => (v === null ? null : s('circle', { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2.5, class: 'dot',
      'data-value': v }))),
    s('text', { x: 0, y: ht + 12, class: 'label' }, dates[0]),
    s('text', { x: w, y: ht + 12, class: 'label end' }, dates[dates.length - 1]));
}

// One service's keys over the ends: four charts and their table.
export function keysOverTime(points, service, environment, win) {
  const mine = points.map((p) => p.services.find((k) => k.service === service && k.environment === environment) ?? null);
  const dates = points.map((p) => p.until.slice(0, 10));
  const cells = (key) => mine.map((k) => key.of(k));
  return h('div', { class: 'trends' },
    h('h3', {}, `Over time: ${win} windows ending ${dates[0]} to ${dates[dates.length - 1]}`),
    h('div', { class: 'trend-grid' }, KEYS.map((key) => {
      const v = cells(key), last = [...v].reverse().find((x) => x !== null);
      return h('figure', {},
        line(v, `${key.name} of ${service} in ${environment}, ${win} windows ending ${dates[0]} to ` +
          `${dates[dates.length - 1]}; latest ${last === undefined ? 'none' : key.show(last)}`, dates),
        h('figcaption', {}, `${key.name}: ${last === undefined ? '—' : key.show(last)}`));
    })),
    h('details', {}, h('summary', {}, 'Values'),
      h('table', { class: 'trend-values' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Window ending'), KEYS.map((k) => h('th', { scope: 'col' }, k.name)))),
        h('tbody', {}, points.map((p, i) => h('tr', {},
          h('th', { scope: 'row' }, dates[i]),
          KEYS.map((key) => {
            const v = key.of(mine[i]);
            return h('td', { class: 'num' }, v === null ? '—' : key.show(v));
          })))))));
}

function median(v) {
  if (!v.length) return null;
  const x = [...v].sort((a, b) => a - b), n = x.length;
  return n % 2 ? x[(n - 1) / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

// Pipeline SLOs a day since @since: per pipeline name, the runs that
// finished each day, how many succeeded, and their median duration
// (started to finished by the producer's timestamps, as /metrics has it).
export async function pipelineSlos(since, days) {
  const q = (phase) => allEvents(`/v1/events?type=dev.cdevents.pipelinerun.${phase}&since=${enc(since)}&limit=1000`);
  const [started, finished] = await Promise.all([q('started'), q('finished')]);
  const startOf = new Map(started.map((r) => [r.event.subject.id, Date.parse(r.event.context.timestamp)]));
  const byName = new Map();
  for (const r of finished) {
    const c = r.event.subject.content ?? {}, name = c.pipelineName ?? r.event.subject.id;
    const day = days.indexOf(r.event.context.timestamp.slice(0, 10));
    if (day < 0) continue;
    if (!byName.has(name)) byName.set(name, days.map(() => ({ runs: 0, ok: 0, durations: [] })));
    const d = byName.get(name)[day];
    d.runs++;
    if (c.outcome === 'success') d.ok++;
    const t0 = startOf.get(r.event.subject.id);
    if (t0 !== undefined) d.durations.push((Date.parse(r.event.context.timestamp) - t0) / 1000);
  }
  return [...byName].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, perDay]) => ({
    name,
    runs: perDay.reduce((n, d) => n + d.runs, 0),
    ok: perDay.reduce((n, d) => n + d.ok, 0),
    median: median(perDay.flatMap((d) => d.durations)),
    ratio: perDay.map((d) => (d.runs ? d.ok / d.runs : null)),
    duration: perDay.map((d) => median(d.durations)),
  }));
}

export function sloCard(p, days) {
  const span = `${days[0]} to ${days[days.length - 1]}`;
  return h('article', { class: 'slo', 'data-pipeline': p.name },
    h('h3', {}, p.name),
    h('p', {}, `${p.runs} run${p.runs === 1 ? '' : 's'} finished, ${p.ok} succeeded ` +
      `(${p.runs ? ((p.ok / p.runs) * 100).toFixed(1) : '—'}%), median duration ${seconds(p.median)}`),
    h('div', { class: 'trend-grid' },
      h('figure', {}, line(p.ratio, `Success ratio a day of ${p.name}, ${span}`, days), h('figcaption', {}, 'Success ratio a day')),
      h('figure', {}, line(p.duration, `Median duration a day of ${p.name}, ${span}`, days),
        h('figcaption', {}, 'Median duration a day'))));
}
