// Sink state changes in the daemon's log: a webhook whose receiver is
// down is logged as failing within seconds, once however many events and
// retries pile up, and as recovered (then caught up) when a real receiver
// process comes back on its port; a receiver that refuses (400) is logged
// as dead-lettering once for several dead letters. Every wait polls the
// log or the receiver; nothing sleeps a fixed time.
//
//   node tests/js/integration/sink-logs.mjs path/to/cdeventsd path/to/cdevctl
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, postJson, curl, checker, waitFor } from '../daemon.mjs';

const t = checker();
const [bin] = process.argv.slice(2, 3);
// Under valgrind (CDE_DAEMON_WRAPPER) everything takes longer.
const slow = process.env.CDE_DAEMON_WRAPPER ? 10 : 1;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-sink-logs-'));

// A free port with nobody on it: connections are refused until the
// receiver starts there.
const downPort = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});

// The receiver that comes back: its own node process, printing one line
// per request it accepted.
let received = 0;
function startReceiver(port) {
  const proc = spawn(process.execPath, ['-e', `
    require('node:http').createServer((req, res) => {
      req.resume();
      req.on('end', () => { res.writeHead(200); res.end(); console.log('got ' + req.url); });
    }).listen(${port}, '127.0.0.1', () => console.log('listening'));
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (c) => { out += c; received = (out.match(/^got /gm) || []).length; });
  return { proc, listening: () => out.includes('listening') };
}

// A receiver that refuses every event for good.
let refused = 0;
const refuser = http.createServer((req, res) => { req.resume(); req.on('end', () => { refused++; res.writeHead(400); res.end('bad event'); }); });
await new Promise((r) => refuser.listen(0, '127.0.0.1', r));

const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, `
sinks:
  - name: down-hook
    type: webhook
    url: http://127.0.0.1:${downPort}/events
    max_backoff: 500ms
    max_attempts: 100000
  - name: refuse-hook
    type: webhook
    url: http://127.0.0.1:${refuser.address().port}/events
routes:
  - sinks: [down-hook, refuse-hook]
`);
const d = await startDaemon(bin, ['-c', cfg]);
const lines = (msg, sink) => d.log().split('\n').filter((l) => l.includes(`msg="${msg}"`) && l.includes(` sink=${sink}`));
const field = (line, key) => (new RegExp(` ${key}=("(?:[^"\\\\]|\\\\.)*"|\\S+)`).exec(line ?? '') || [])[1];

const hook = (i) => postJson(`${d.url}/v1/hooks/build`, { phase: 'finished', subject: `etl-${i}` });
const posted = [1, 2, 3].map(hook);
t.check(posted.every((r) => r.status === 202), 'three events accepted', posted.map((r) => r.status).join());

// --- a receiver that is down ---------------------------------------------
t.check(await waitFor(() => lines('sink failing', 'down-hook').length > 0, 5000 * slow),
  'a sink whose receiver is down is logged as failing within seconds', d.log());
const failing = lines('sink failing', 'down-hook')[0];
t.check(/level=warn/.test(failing ?? '') && field(failing, 'error') && field(failing, 'retry_in'),
  'the failing line is a warning with the error and when it is tried again', failing);

const sinkOf = (name) => curl([`${d.url}/v1/sinks`]).json?.sinks?.find((s) => s.name === name);
t.check(await waitFor(() => (sinkOf('down-hook')?.retries ?? 0) >= 9, 15000 * slow),
  'the engine keeps retrying the three events', JSON.stringify(sinkOf('down-hook')));
t.check(lines('sink failing', 'down-hook').length === 1 && lines('sink still failing', 'down-hook').length === 0,
  'once: not a line per event or per retry', lines('sink failing', 'down-hook').join('\n'));
t.check(lines('sink recovered', 'down-hook').length === 0, 'and no recovery while it is down');

// --- the receiver comes back ---------------------------------------------
const receiver = startReceiver(downPort);
t.check(await waitFor(receiver.listening, 10000 * slow), 'the receiver process listens on the sink\'s port');
t.check(await waitFor(() => lines('sink recovered', 'down-hook').length > 0, 10000 * slow),
  'its recovery is logged when the receiver comes back', d.log());
const recovered = lines('sink recovered', 'down-hook')[0];
t.check(/level=info/.test(recovered ?? '') && field(recovered, 'down_for') && Number(field(recovered, 'failed_attempts')) >= 9 &&
  field(recovered, 'dead_letters') === '0',
  'the recovered line says how long it was down and how many attempts failed', recovered);
t.check(await waitFor(() => received >= 3, 10000 * slow), 'the backlog reaches the receiver', String(received));
t.check(await waitFor(() => lines('sink caught up', 'down-hook').length > 0, 5000 * slow),
  'then the sink is logged as caught up', d.log());
t.check(field(lines('sink caught up', 'down-hook')[0], 'delivered') === '3',
  'with the events it caught up', lines('sink caught up', 'down-hook')[0]);
t.check(lines('sink failing', 'down-hook').length === 1 && lines('sink recovered', 'down-hook').length === 1,
  'one failing line and one recovered line for the whole outage');

// --- a receiver that refuses ---------------------------------------------
t.check(await waitFor(() => refused >= 3 && lines('sink dead-lettering events', 'refuse-hook').length > 0, 5000 * slow),
  'a sink that gives events up is logged as dead-lettering', d.log());
const dl = lines('sink dead-lettering events', 'refuse-hook');
t.check(dl.length === 1 && /level=error/.test(dl[0]) && field(dl[0], 'dead_letters') === '1' && /HTTP 400/.test(field(dl[0], 'error') ?? ''),
  'once, as an error naming the refusal', dl.join('\n'));
t.check(lines('sink failing', 'refuse-hook').length === 1 && field(lines('sink failing', 'refuse-hook')[0], 'status') === '400',
  'after one failing line with the status', lines('sink failing', 'refuse-hook').join('\n'));
t.check(await waitFor(() => sinkOf('refuse-hook')?.deadLetters === 3, 5000 * slow) &&
  lines('sink dead-lettering events', 'refuse-hook').length === 1,
  'three dead letters, still one line', JSON.stringify(sinkOf('refuse-hook')));

// The receiver goes away again: a new outage is not announced within the
// repeat interval of the last line (a flapping receiver stays quiet).
receiver.proc.kill('SIGTERM');
await new Promise((r) => receiver.proc.on('exit', r));
const more = hook(4);
t.check(more.status === 202, 'a fourth event accepted');
t.check(await waitFor(() => (sinkOf('down-hook')?.retries ?? 0) >= 12, 15000 * slow) &&
  lines('sink failing', 'down-hook').length === 1,
  'a sink that flaps within a minute is not announced again', lines('sink failing', 'down-hook').join('\n'));

t.check(await d.stop() === 0, 'the daemon stops cleanly');
refuser.close();
t.finish();
