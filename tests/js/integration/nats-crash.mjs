// Crash safety with a nats sink: hooks under load while the daemon is
// killed with SIGKILL at random instants, again and again, on the same
// state directory, publishing to a real JetStream all the while. After
// the last restart every event a client saw acknowledged (202) is in the
// stream exactly once: the daemon re-sends what it had not seen acked
// (at-least-once), and the stream drops the re-sends by Nats-Msg-Id.
//
//   node tests/js/integration/nats-crash.mjs path/to/cdeventsd path/to/cdevctl [rounds]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startDaemon, checker, waitForSinks, auditDb, freePort, slowdown } from '../daemon.mjs';
import { startNats, readStream, withStream } from '../nats-server.mjs';

const t = checker();
const [bin, cdevctl] = process.argv.slice(2, 4);
const rounds = Number(process.argv[4] || process.env.CDE_CRASH_ROUNDS || 8);
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-nats-crash-'));
const server = await startNats(state, await freePort());
const { nc, jsm } = await withStream(server.url, 'CDEVENTS', ['cdevents.>']);

const cfg = path.join(state, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `sinks:\n  - name: bus\n    type: nats\n    url: ${server.url}\n    stream: CDEVENTS\n` +
  `    max_backoff: 1s\nroutes:\n  - sinks: [bus]\n`);
const acked = new Set();
let killed = 0;

for (let round = 0; round < rounds; round++) {
  const d = await startDaemon(bin, ['--state-dir', state, '-c', cfg]);
  let stop = false;
  const client = async (c) => {
    for (let i = 0; !stop; i++) {
      try {
        const res = await fetch(`${d.url}/v1/hooks/build`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ phase: 'started', subject: `b-${c}`, id: `nats-crash-${round}-${c}-${i}` }),
        });
        const body = await res.json();
        if (res.status === 202) acked.add(body.id);
      } catch {
        return; // killed mid-request: not acknowledged, may or may not be stored
      }
    }
  };
  const clients = Array.from({ length: 8 }, (_, c) => client(c));
  await new Promise((r) => setTimeout(r, (150 + Math.random() * 500) * slowdown)); // the random instant is what is tested
  d.proc.kill('SIGKILL');
  await new Promise((r) => d.proc.on('exit', r));
  killed++;
  stop = true;
  await Promise.all(clients);
}

// The last start delivers what the crashes left unacked.
const d = await startDaemon(bin, ['--state-dir', state, '-c', cfg]);
const st = await waitForSinks(d, { bus: (s) => s.lagEvents === 0 && s.inFlight === 0 }, 60000);
const bus = st?.sinks?.find((s) => s.name === 'bus');
t.check(bus?.lagEvents === 0 && bus?.deadLetters === 0, 'after the last restart the sink has caught up, nothing dead',
  JSON.stringify(bus));
t.check(await d.stop() === 0, 'the daemon stops cleanly', d.log().slice(-400));

const msgs = await readStream(jsm, 'CDEVENTS');
const ids = msgs.map((m) => m.headers['ce-id']);
const unique = new Set(ids);
const missing = [...acked].filter((id) => !unique.has(id));
t.check(acked.size > 0 && missing.length === 0, 'every acknowledged hook is in the stream',
  `${missing.length} of ${acked.size} missing, e.g. ${missing.slice(0, 3)}`);
t.check(ids.length === unique.size, 'and each once: re-sends after a crash are dropped by Nats-Msg-Id',
  `${ids.length} messages, ${unique.size} ids`);
t.check(msgs.every((m) => m.headers['nats-msg-id'] === m.headers['ce-id']), 'Nats-Msg-Id is the event id');
const v = spawnSync(cdevctl, ['audit', 'verify', '--db', auditDb(state)], { encoding: 'utf8' });
t.check(v.status === 0, 'the hash chain verifies after every crash', v.stdout + v.stderr);
console.log(`nats-crash: ${killed} kills, ${acked.size} acknowledged, ${msgs.length} in the stream, ` +
  `${unique.size} unique`);

await nc.close();
await server.stop();
fs.rmSync(state, { recursive: true, force: true });
t.finish();
