// Process life: a config file, SIGHUP reloads (a bad file keeps the running
// configuration), --check-config, and SIGTERM under load: in-flight requests
// are answered, none is cut, the daemon exits 0.
//
//   node tests/js/integration/lifecycle.mjs path/to/cdeventsd
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startDaemon, postJson, checker, sleep, waitFor, waitForLog } from '../daemon.mjs';

const t = checker();
const bin = process.argv[2];
const cdevctl = process.argv[3];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-life-'));
const cfg = path.join(dir, 'cdeventsd.yaml');
const keyFile = path.join(dir, 'audit.key');
fs.writeFileSync(keyFile, crypto.randomBytes(32), { mode: 0o600 });
const write = (limits) => fs.writeFileSync(cfg, `log_level: info\nsource: /ci/test\n` +
  `audit:\n  hmac_key_file: ${keyFile}\n  checkpoint_every: 50\nlimits:\n${limits}`);
const hook = (size) => ({ phase: 'started', subject: 'b', customData: { pad: 'p'.repeat(size) } });

// --check-config says fine or why not, and never starts.
write('  body_max: 64KiB\n');
let r = spawnSync(bin, ['--check-config', cfg], { encoding: 'utf8' });
t.check(r.status === 0 && r.stdout.includes(': ok'), '--check-config accepts a good file', r.stdout + r.stderr);
fs.writeFileSync(path.join(dir, 'bad.yaml'), 'limits:\n  body_max: lots\n');
r = spawnSync(bin, ['--check-config', path.join(dir, 'bad.yaml')], { encoding: 'utf8' });
t.check(r.status === 1 && r.stderr.includes('/limits/body_max: "lots" is not a size'),
  '--check-config names the key and the reason', r.stderr);

// A sink that no route names receives nothing: loaded, with a warning
// naming it, by --check-config and by the daemon.
const unrouted = path.join(dir, 'unrouted.yaml');
fs.writeFileSync(unrouted, `sinks:\n  - {name: archive, type: file, path: ${path.join(dir, 'a.jsonl')}}\n` +
  `  - {name: hub, type: webhook, url: "http://127.0.0.1:9/x"}\nroutes:\n  - sinks: [archive]\n`);
r = spawnSync(bin, ['--check-config', unrouted], { encoding: 'utf8' });
t.check(r.status === 0 && r.stderr.includes('/sinks/1: sink \\"hub\\" is named by no route') &&
  !r.stderr.includes('archive'), '--check-config warns of a sink no route names', r.stdout + r.stderr);
{
  const u = await startDaemon(bin, ['-c', unrouted, '--state-dir', path.join(dir, 'state-unrouted')]);
  t.check(await waitForLog(u, 'sink \\"hub\\" is named by no route'), 'the daemon warns of it at start', u.log());
  await u.stop();
}

const state = path.join(dir, 'state');
const d = await startDaemon(bin, ['-c', cfg, '--state-dir', state]);
t.check(fs.existsSync(path.join(dir, 'state')), 'the state directory is created');
r = postJson(`${d.url}/v1/hooks/build?dry_run=1`, hook(1));
t.check(r.json?.events?.[0]?.context?.source === '/ci/test', 'the configured source is used', r.body);
t.check(postJson(`${d.url}/v1/hooks/build`, hook(20000)).status === 202, '20 KB fits a 64 KiB limit');

// SIGHUP with a smaller limit: new requests see it.
write('  body_max: 8KiB\n');
let mark = d.log().length;
d.proc.kill('SIGHUP');
t.check(await waitForLog(d, 'configuration reloaded', mark), 'SIGHUP reloads', d.log().slice(mark));
t.check(postJson(`${d.url}/v1/hooks/build`, hook(20000)).status === 413, 'the new limit applies');
t.check(postJson(`${d.url}/v1/hooks/build`, hook(10)).status === 202, 'small hooks still pass');

// SIGHUP with a bad file: refused, the running configuration stays.
write('  body_max: 1XB\n');
mark = d.log().length;
d.proc.kill('SIGHUP');
t.check(await waitForLog(d, 'reload refused', mark), 'a bad file is refused and logged', d.log().slice(mark));
t.check(d.log().slice(mark).includes('/limits/body_max'), 'the log names the key');
t.check(postJson(`${d.url}/v1/hooks/build`, hook(20000)).status === 413, 'the old limit still applies');
t.check(postJson(`${d.url}/v1/hooks/build`, hook(10)).status === 202, 'and the daemon still accepts');

// A full queue: 503 with Retry-After, nothing half-accepted.
write('  body_max: 8KiB\n  queue_max: 1\n');
mark = d.log().length;
d.proc.kill('SIGHUP');
t.check(await waitForLog(d, 'configuration reloaded', mark), 'reload with queue_max 1');
const two = [0, 1].map((i) => ({ specversion: '1.0', id: `q${i}`, source: '/ci', type: 'dev.cdevents.build.queued.0.3.0',
  data: { context: { specversion: '0.5.1', id: `q${i}`, source: '/ci', type: 'dev.cdevents.build.queued.0.3.0',
    timestamp: '2025-01-01T00:00:00Z' }, subject: { id: 'b', content: {} } } }));
r = spawnSync('curl', ['-sS', '-D', '-', '-X', 'POST', '-H', 'Content-Type: application/cloudevents-batch+json',
  '--data-binary', JSON.stringify(two), `${d.url}/v1/events`], { encoding: 'utf8' });
t.check(/^HTTP\/1\.1 503/.test(r.stdout) && /Retry-After: 1/i.test(r.stdout), 'more events than the queue holds: 503 with Retry-After',
  r.stdout);
write('  body_max: 8KiB\n');
mark = d.log().length;
d.proc.kill('SIGHUP');
t.check(await waitForLog(d, 'configuration reloaded', mark), 'reload back');

// SIGTERM under load: 8 clients posting on kept-alive connections, with
// two reloads in the middle of it.
const results = { acked: 0, refused: 0, bad: [] };
let stop = false, maxSeq = 0;
const seqs = new Set();
async function client(c) {
  for (let i = 0; !stop; i++) {
    try {
      const res = await fetch(`${d.url}/v1/hooks/build`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ phase: 'started', subject: `c${c}-${i}` }),
      });
      const body = await res.json();
      if (res.status === 202 && Number.isInteger(body.seq) && !seqs.has(body.seq)) {
        maxSeq = Math.max(maxSeq, body.seq);
        results.acked++;
        seqs.add(body.seq);
      } else results.bad.push(`${res.status} ${JSON.stringify(body)}`);
    } catch (e) {
      // After the listener closes: the connection is refused or closed
      // before a reply. Never a partial reply.
      results.refused++;
      if (results.refused > 50) return;
      await sleep(10); // a client's pause before it tries again
    }
  }
}
// Each step waits for traffic to have flowed since the last one; past
// 50 acknowledged events the log holds a keyed checkpoint to verify.
const clients = Array.from({ length: 8 }, (_, c) => client(c));
const moreAcked = (n) => { const want = results.acked + n; return waitFor(() => results.acked >= want, 10000); };
await moreAcked(60);
for (let i = 0; i < 2; i++) {
  mark = d.log().length;
  d.proc.kill('SIGHUP');
  await waitForLog(d, 'configuration reloaded', mark);
  await moreAcked(20);
}
const code = await d.stop();
stop = true;
await Promise.all(clients);
t.check(code === 0, 'exits 0 after SIGTERM under load', d.log().slice(-400));
t.check(results.bad.length === 0, 'every answered request was a whole 202 with a new seq',
  results.bad.slice(0, 3).join('; '));
t.check(results.acked > 0, 'requests were acknowledged before the stop', String(results.acked));
t.check(d.log().includes('all connections closed') && d.log().includes('level=info msg="stopped"'),
  'the drain finished before exit');
console.log(`shutdown under load: ${results.acked} acknowledged, ${results.refused} refused after the stop`);

// Nothing acknowledged is lost: seqs are consecutive from 1, so an intact
// chain whose head is at least every seq a client was given holds them all.
const v = spawnSync(cdevctl, ['audit', 'verify', '--db', path.join(state, 'audit.db'), '--key', keyFile,
  '--every', '50'], { encoding: 'utf8' });
const m = /intact, (\d+) events, head seq (\d+)/.exec(v.stdout);
t.check(v.status === 0 && m && Number(m[2]) >= maxSeq && Number(m[1]) === Number(m[2]),
  `the audit log is intact and holds every acknowledged event (highest seq acknowledged ${maxSeq})`,
  v.stdout + v.stderr);
const cps = /(\d+) keyed checkpoints verified/.exec(v.stdout);
t.check(cps && Number(cps[1]) === Math.floor(Number(m?.[2] ?? 0) / 50) && Number(cps[1]) > 0,
  'a keyed checkpoint after every 50 events, each verified with the key', v.stdout);
const wrongKey = path.join(dir, 'wrong.key');
fs.writeFileSync(wrongKey, crypto.randomBytes(32), { mode: 0o600 });
const w = spawnSync(cdevctl, ['audit', 'verify', '--db', path.join(state, 'audit.db'), '--key', wrongKey,
  '--every', '50'], { encoding: 'utf8' });
t.check(w.status === 1 && w.stdout.includes('broken at seq 50') && w.stdout.includes('HMAC'),
  'another key does not verify them', w.stdout + w.stderr);
// An evidence bundle: exported, checked offline with the key; one byte
// changed in it is found.
const bundle = path.join(dir, 'bundle.jsonl');
const ex = spawnSync(cdevctl, ['audit', 'export', '--db', path.join(state, 'audit.db'), '--out', bundle],
  { encoding: 'utf8' });
t.check(ex.status === 0 && ex.stderr.includes(`${m?.[1]} events`), 'cdevctl audit export writes the bundle', ex.stderr);
const vb = spawnSync(cdevctl, ['audit', 'verify', '--bundle', bundle, '--key', keyFile, '--every', '50'], { encoding: 'utf8' });
t.check(vb.status === 0 && vb.stdout.includes(`intact, ${m?.[1]} events`) && vb.stdout.includes(`hash ${/hash ([0-9a-f]{64})/.exec(v.stdout)?.[1]}`),
  'the bundle verifies offline, checkpoints and head included', vb.stdout + vb.stderr);
const lines = fs.readFileSync(bundle, 'utf8').split('\n');
lines[5] = lines[5].replace('"principal":"anonymous"', '"principal":"someone"');
fs.writeFileSync(bundle, lines.join('\n'));
const vt = spawnSync(cdevctl, ['audit', 'verify', '--bundle', bundle, '--key', keyFile, '--every', '50'], { encoding: 'utf8' });
t.check(vt.status === 1 && vt.stdout.includes('broken at seq 5'), 'an altered bundle is found out at its seq', vt.stdout);
fs.rmSync(dir, { recursive: true });
t.finish();
