// Fan-out after a receiver outage: once the receiver is back, the events
// that were waiting for a retry go at once, so the sink's cursor reaches
// the head within 2 s of 99% of the backlog arriving, instead of waiting
// on each event's own backoff timer (seconds to minutes after a long
// outage); GET /v1/sinks no longer shows the outage's error; and a crash
// then sends nothing again.
//
// The receiver runs in its own process (tests/js/receiver.mjs) and is
// down (connection refused) while the backlog is posted, long enough for
// the backoffs to have grown to seconds. Prints the recovery figure.
//
//   node tests/js/integration/fanout-recovery.mjs path/to/cdeventsd path/to/cdevctl
//   CDE_RECOVERY_EVENTS=30000 (default 3000): the backlog's size
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startDaemon, checker, waitFor, slowdown, freePort, postBacklog, lakeSinkConfig } from '../daemon.mjs';

const t = checker();
const [bin] = process.argv.slice(2, 4);
const N = Number(process.env.CDE_RECOVERY_EVENTS || 3000);
const WINDOW = 16; // the default max_in_flight
const here = path.dirname(new URL(import.meta.url).pathname);

const port = await freePort();
// The default backoff (up to 5 minutes), as a user would run it.
const { cfg } = lakeSinkConfig(port, 'recovery');
const d = await startDaemon(bin, ['-c', cfg]);
const getJson = async (url) => { try { return await (await fetch(url)).json(); } catch { return null; } };
const lake = async () => (await getJson(`${d.url}/v1/sinks`))?.sinks?.find((s) => s.name === 'lake');
// Polls @cond every 50 ms (fetch, so nothing blocks), returns its last value.
const until = (cond, ms) => waitFor(cond, ms, { every: 50 });

const start = await until(lake, 10000);
const head = start.cursor + N;
const loading = Date.now();
await postBacklog(d, N, 'rc', '/recovery');

// Down long enough that every event of the window has failed about five
// times: their next tries are seconds away.
const down = await until(async () => { const s = await lake(); return s?.lagEvents === N && s.retries >= 5 * WINDOW && s; }, 60000);
t.check(down && down.lastError !== null && !Number.isNaN(Date.parse(down.lastErrorAt)),
  'while the receiver is down, the sink shows the error and when it happened', JSON.stringify(down));
t.check(down?.cursorLagEvents === N && down?.cursor === start.cursor,
  `all ${N} events wait, none delivered`, JSON.stringify(down));

// The receiver comes back.
const receiver = spawn(process.execPath, [path.join(here, '..', 'receiver.mjs'), String(port), String(N)],
  { stdio: ['ignore', 'pipe', 'inherit'] });
process.on('exit', () => receiver.kill('SIGTERM'));
await new Promise((r) => receiver.stdout.once('data', r));
const back = Date.now();
const stats = () => getJson(`http://127.0.0.1:${port}/stats`);

let atHead = null;
await until(async () => {
  const s = await lake();
  if (s?.cursor === head && atHead === null) atHead = Date.now();
  return atHead !== null;
}, 60000);
const got = await stats();
t.check(got?.unique === N, `when it comes back, all ${N} events arrive`, JSON.stringify(got));
const stall = atHead !== null && got?.at99 ? atHead - got.at99 : null;
t.check(stall !== null && stall <= 2000 * slowdown,
  'the cursor reaches the head within 2 s of 99% of the backlog being delivered',
  `99% at +${got?.at99 - back} ms, all at +${got?.atAll - back} ms, cursor at head at ${atHead === null ? 'never' : `+${atHead - back} ms`}`);

const after = await until(async () => { const s = await lake(); return s?.lastError === null && s; }, 5000);
t.check(after && after.lagEvents === 0 && after.cursorLagEvents === 0 && after.deadLetters === 0,
  'caught up: no lag, no dead letters', JSON.stringify(after));
// (The error kept is the outage's last one, which may have changed after
// the sample above: a refusal, then a timeout under load.)
t.check(after && typeof after.recovered?.error === 'string' && after.recovered.error !== '' &&
  Date.parse(after.recovered?.at) >= Date.parse(down?.lastErrorAt),
  'the outage\'s error is cleared, and kept under "recovered" with when the sink recovered', JSON.stringify(after));

console.log(`recovery: ${N} events waited for a receiver down ${((back - loading) / 1000).toFixed(0)} s; ` +
  `99% delivered ${((got?.at99 - back) / 1000).toFixed(1)} s after it came back, the cursor at the head ` +
  `${stall === null ? 'never' : `${(stall / 1000).toFixed(1)} s`} later (GET /v1/sinks is refreshed once a second)`);

// A crash now sends nothing again: the cursor at the head is stored.
const requests = (await stats())?.requests;
d.proc.kill('SIGKILL');
await new Promise((r) => d.proc.once('exit', r));
const d2 = await startDaemon(bin, ['-c', cfg, '--state-dir', d.stateDir]);
const again = (await until(async () => (await getJson(`${d2.url}/v1/sinks`))?.sinks?.[0], 10000));
t.check(again?.cursor === head && again?.lagEvents === 0,
  'after a crash (SIGKILL) once caught up, the restarted sink starts at the head', JSON.stringify(again));
t.check((await stats())?.requests === requests, 'and the receiver gets nothing twice',
  `${requests} requests before the crash, ${(await stats())?.requests} after`);
t.check(await d2.stop() === 0, 'exits 0 on SIGTERM');
receiver.kill('SIGTERM');
t.finish();
