// Crash safety: hooks under load while the daemon is killed with SIGKILL
// at random instants, again and again, on the same state directory, with
// a webhook sink delivering all the while. Every event a client saw
// acknowledged (202 with its seq) must be in the audit log afterwards with
// that seq, the database must open, the chain must verify, and after the
// last restart every acknowledged event must reach the receiver (at least
// once). Prints the counts.
//
//   node tests/js/integration/crash.mjs path/to/cdeventsd path/to/cdevctl [rounds]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { startDaemon, checker, waitFor, auditDb } from '../daemon.mjs';

const t = checker();
const [bin, cdevctl] = process.argv.slice(2, 4);
const rounds = Number(process.argv[4] || process.env.CDE_CRASH_ROUNDS || 15);
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-crash-'));
const acked = new Map(); // seq -> id
let sent = 0, failed = 0;

// The receiver stays up across the crashes; it counts every delivery.
const delivered = new Map(); // ce-id -> times
const receiver = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const id = req.headers['ce-id'];
    delivered.set(id, (delivered.get(id) || 0) + 1);
    res.writeHead(204);
    res.end();
  });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const cfg = path.join(state, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `sinks:\n  - name: receiver\n    type: webhook\n    url: http://127.0.0.1:${receiver.address().port}/\n` +
  `    max_backoff: 1s\nroutes:\n  - sinks: [receiver]\n`);

for (let round = 0; round < rounds; round++) {
  const d = await startDaemon(bin, ['--state-dir', state, '-c', cfg]);
  let stop = false;
  const client = async (c) => {
    for (let i = 0; !stop; i++) {
      const id = `crash-${round}-${c}-${i}`;
      sent++;
      try {
        const res = await fetch(`${d.url}/v1/hooks/build`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ phase: 'started', subject: `b-${c}`, id }),
        });
        const body = await res.json();
        if (res.status === 202) acked.set(body.seq, id);
      } catch {
        failed++; // killed mid-request: not acknowledged, may or may not be stored
        return;
      }
    }
  };
  const clients = Array.from({ length: 8 }, (_, c) => client(c));
  await new Promise((r) => setTimeout(r, 150 + Math.random() * 500)); // a random moment to crash at: what is tested
  d.proc.kill('SIGKILL');
  await new Promise((r) => d.proc.on('exit', r));
  stop = true;
  await Promise.all(clients);
}

// The database opens: a daemon starts on it, and stops cleanly.
const d = await startDaemon(bin, ['--state-dir', state, '-c', cfg]);
const missing = () => [...acked.values()].filter((id) => !delivered.has(id));
await waitFor(() => missing().length === 0, 60000, { every: 100 });
t.check(await d.stop() === 0, 'a daemon starts on the crashed database and stops cleanly', d.log().slice(-400));
receiver.close();

const db = auditDb(state);
const v = spawnSync(cdevctl, ['audit', 'verify', '--db', db], { encoding: 'utf8' });
t.check(v.status === 0, 'the hash chain verifies after every crash', v.stdout + v.stderr);
const q = spawnSync(cdevctl, ['audit', 'query', '--db', db], { encoding: 'utf8', maxBuffer: 1 << 28 });
const stored = new Map();
for (const line of q.stdout.split('\n').filter(Boolean)) {
  const rec = JSON.parse(line);
  stored.set(rec.seq, rec.event.context.id);
}
let present = 0, lost = 0, wrong = 0;
for (const [seq, id] of acked) {
  if (!stored.has(seq)) lost++;
  else if (stored.get(seq) !== id) wrong++;
  else present++;
}
console.log(`crash test: ${rounds} SIGKILLs, ${sent} sent, ${acked.size} acknowledged, ` +
  `${present} present, ${lost} lost, ${wrong} with another event at their seq, ` +
  `${stored.size} stored (${stored.size - present} stored without an acknowledgement)`);
const twice = [...delivered.values()].filter((n) => n > 1).length;
console.log(`delivery across the crashes: ${acked.size - missing().length} of ${acked.size} acknowledged events ` +
  `delivered, ${twice} more than once (at-least-once: redelivered after a kill)`);
t.check(acked.size > 0, 'events were acknowledged between the crashes');
t.check(missing().length === 0, 'every acknowledged event reached the receiver', `${missing().length} missing`);
t.check(lost === 0 && wrong === 0, 'every acknowledged event is stored with its seq', `lost ${lost}, wrong ${wrong}`);
fs.rmSync(state, { recursive: true });
t.finish();
