// Benchmark of a promotion gate end to end (issue 18's measurement):
// GET /v1/gates/prod?artifact=... on an artifact whose chain holds 2,000,
// 20,000 and 60,000 testcaserun.finished (posted in batches), each asked
// a few times, the median kept; the answer includes the store's reads and
// the decision event's commit. Prints figures; asserts nothing.
//
//   node tests/bench/gate_http.mjs path/to/cdeventsd [cases,...]
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon } from '../js/daemon.mjs';
import { result } from './lib.mjs';

const bin = process.argv[2];
const steps = (process.argv[3] || '2000,20000,60000').split(',').map(Number);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-bench-gate-'));
const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `audit:\n  sync: normal\nlimits:\n  queue_max: 100000\n  body_max: 8MiB\n` +
  'gates:\n  prod:\n    require:\n      - build: true\n      - test_case: {type: unit, outcome: success}\n');
const d = await startDaemon(bin, ['-c', cfg]);
const ART = 'pkg:oci/etl@sha256%3Abench';
const event = (type, subject, content) => {
  const id = crypto.randomUUID();
  const data = { context: { specversion: '0.5.1', id, source: '/bench', type: `dev.cdevents.${type}`,
    timestamp: new Date().toISOString(), chainId: 'release-1' }, subject: { id: subject, content } };
  return { specversion: '1.0', id, source: '/bench', type: data.context.type, time: data.context.timestamp, data };
};
const post = async (batch) => {
  const res = await fetch(`${d.url}/v1/events`, { method: 'POST', body: JSON.stringify(batch),
    headers: { 'Content-Type': 'application/cloudevents-batch+json' } });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`batch refused: ${res.status} ${text.slice(0, 300)}`);
};

await post([event('build.finished.0.3.0', 'etl-build', { artifactId: ART })]);
const out = {};
let posted = 0;
for (const n of steps) {
  while (posted < n) {
    const batch = [];
    for (; posted < n && batch.length < 500; posted++)
      batch.push(event('testcaserun.finished.0.3.0', `run-${posted}`, { environment: { id: 'ci' },
        testCase: { id: `tests/module_${posted % 97}/test_case_${posted}`, type: 'unit' }, outcome: 'success' }));
    await post(batch);
  }
  const times = [];
  let decision;
  for (let k = 0; k < 3; k++) {
    const t0 = process.hrtime.bigint();
    const res = await fetch(`${d.url}/v1/gates/prod?artifact=${encodeURIComponent(ART)}`);
    decision = (await res.json()).decision;
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const ms = times.sort((a, b) => a - b)[1];
  console.log(`  ${String(n).padStart(6)} test cases: GET /v1/gates/prod ${ms.toFixed(1)} ms (median of 3, ${decision})`);
  out[n] = { ms: Number(ms.toFixed(1)), decision };
}
result('gateHttp', out);
await d.stop();
fs.rmSync(dir, { recursive: true, force: true });
