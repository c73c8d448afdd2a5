// The sd_notify protocol against the real daemon, with tests/helpers/
// notify_listen playing systemd: READY=1 once /healthz answers (with the
// address in STATUS=), RELOADING=1 (MONOTONIC_USEC=) then READY=1 around
// every SIGHUP, applied or refused, STOPPING=1 on SIGTERM, WATCHDOG=1
// pings when WATCHDOG_USEC is set for this pid, abstract sockets, and no
// harm when the manager's socket is gone.
//
//   node tests/js/integration/systemd.mjs path/to/cdeventsd path/to/notify_listen
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { spawn } from 'node:child_process';
import { curl, checker, waitFor } from '../daemon.mjs';

const t = checker();
const bin = process.argv[2];
const listenBin = process.argv[3];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-sd-'));
const cfg = path.join(dir, 'cdeventsd.yaml');
fs.writeFileSync(cfg, 'log_level: info\nsource: /ci/systemd\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sanitized = process.env.CDE_SANITIZED === '1';
const slow = sanitized ? 3 : 1;

// The manager's side: every datagram as {pid, fields: {KEY: VALUE}, keys}.
async function manager(socket) {
  const proc = spawn(listenBin, [socket, '300'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages = [];
  let bound;
  const ready = new Promise((r) => { bound = r; });
  readline.createInterface({ input: proc.stdout }).on('line', (line) => {
    if (line === 'listening') return bound();
    const [pid, ...assignments] = line.split('\t').filter((s) => s !== '');
    const fields = {};
    for (const a of assignments) fields[a.slice(0, a.indexOf('='))] = a.slice(a.indexOf('=') + 1);
    messages.push({ pid: Number(pid), fields, keys: Object.keys(fields), line });
  });
  await ready;
  return {
    messages,
    // The first message from index @from on that @pred accepts, or null after @ms.
    async wait(pred, from = 0, ms = 10000 * slow) {
      for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) {
        const m = messages.slice(from).find(pred);
        if (m) return m;
      }
      return null;
    },
    stop: () => new Promise((r) => { proc.on('exit', r); proc.kill('SIGTERM'); }),
  };
}

function daemon(env, { shell = '' } = {}) {
  const args = ['-c', cfg, '--listen', '127.0.0.1:0', '--state-dir', fs.mkdtempSync(path.join(dir, 'state-'))];
  const e = { ...process.env, ...env };
  delete e.NOTIFY_SOCKET;
  delete e.WATCHDOG_USEC;
  delete e.WATCHDOG_PID;
  Object.assign(e, env);
  // With @shell, sh sets variables that need the daemon's pid, then execs it (same pid).
  const proc = shell ? spawn('/bin/sh', ['-c', `${shell} exec "$0" "$@"`, bin, ...args], { env: e, stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(bin, args, { env: e, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((r) => proc.on('exit', (code, sig) => r(code ?? sig)));
  return {
    proc, log: () => log, exited,
    stop: () => { proc.kill('SIGTERM'); return exited; },
  };
}

const isReady = (m) => m.fields.READY === '1';
const healthz = (url) => curl(['--max-time', '5', `${url}/healthz`]).status;
const watchdogs = (mgr, from) => mgr.messages.slice(from).filter((m) => m.fields.WATCHDOG === '1').length;

// 1. A path socket, the watchdog on (WATCHDOG_USEC without WATCHDOG_PID).
{
  const mgr = await manager(path.join(dir, 'notify.sock'));
  const d = daemon({ NOTIFY_SOCKET: path.join(dir, 'notify.sock'), WATCHDOG_USEC: '400000' });
  const ready = await mgr.wait(isReady);
  t.check(ready !== null, 'READY=1 after start', d.log());
  // The moment READY=1 arrives, the daemon must already answer.
  const address = /^listening on (\S+)$/.exec(ready?.fields.STATUS ?? '')?.[1];
  const url = `http://${address}`;
  t.check(address && healthz(url) === 200, 'at READY=1 /healthz answers at once (address from STATUS=)', ready?.line);
  t.check(mgr.messages[0] === ready, 'READY=1 is the first message', mgr.messages[0]?.line);
  t.check(ready?.pid === d.proc.pid, 'sent by the daemon itself (NotifyAccess=main)', `${ready?.pid} vs ${d.proc.pid}`);

  // Two pings within 1.2 s (every 200 ms asked): waits no longer than it
  // takes them to come.
  let mark = mgr.messages.length;
  const since = Date.now();
  await waitFor(() => watchdogs(mgr, mark) >= 2 || Date.now() - since >= 1200 * slow);
  const pings = watchdogs(mgr, mark);
  t.check(pings >= 2, 'WATCHDOG=1 every WATCHDOG_USEC/2', `${pings} pings in ${1.2 * slow} s`);
  t.check(/watchdog: WATCHDOG=1 every 200 ms/.test(d.log()), 'the watchdog interval is logged');

  // A reload that applies.
  fs.writeFileSync(cfg, 'log_level: info\nsource: /ci/systemd2\n');
  mark = mgr.messages.length;
  const before = process.hrtime.bigint() / 1000n;
  d.proc.kill('SIGHUP');
  let again = await mgr.wait(isReady, mark);
  let seq = mgr.messages.slice(mark).filter((m) => !m.fields.WATCHDOG);
  t.check(seq.length === 2 && seq[0].fields.RELOADING === '1' && seq[1] === again,
    'SIGHUP: RELOADING=1 then READY=1', seq.map((m) => m.line).join(' | '));
  const mono = seq[0]?.fields.MONOTONIC_USEC;
  const after = process.hrtime.bigint() / 1000n;
  t.check(/^\d+$/.test(mono ?? '') && BigInt(mono) >= before && BigInt(mono) <= after,
    'RELOADING=1 carries MONOTONIC_USEC= (CLOCK_MONOTONIC, when the reload began)', `${before} <= ${mono} <= ${after}`);
  // READY=1 and the log line travel apart (a datagram, a pipe): wait for the line.
  t.check(await waitFor(() => d.log().includes('configuration reloaded'), 5000), 'the reload applied');

  // A reload that is refused: the manager still hears it end.
  fs.writeFileSync(cfg, 'limits:\n  body_max: lots\n');
  mark = mgr.messages.length;
  d.proc.kill('SIGHUP');
  again = await mgr.wait(isReady, mark);
  seq = mgr.messages.slice(mark).filter((m) => !m.fields.WATCHDOG);
  t.check(seq.length === 2 && seq[0].fields.RELOADING === '1' && seq[1] === again,
    'a refused reload: RELOADING=1 then READY=1 all the same', seq.map((m) => m.line).join(' | '));
  t.check(await waitFor(() => d.log().includes('reload refused'), 5000), 'the bad file is refused');
  t.check(healthz(url) === 200, 'and the daemon still answers');
  fs.writeFileSync(cfg, 'log_level: info\n');

  mark = mgr.messages.length;
  const code = await d.stop();
  const stopping = await mgr.wait((m) => m.fields.STOPPING === '1', mark, 2000);
  t.check(stopping !== null, 'SIGTERM: STOPPING=1', mgr.messages.slice(mark).map((m) => m.line).join(' | '));
  t.check(code === 0, 'and exit 0', `${code}\n${d.log()}`);
  t.check(mgr.messages.every((m) => m.pid === d.proc.pid), 'every message came from the daemon');
  t.check(!/cannot notify/.test(d.log()), 'no notification failed', d.log());

  // 2. WATCHDOG_PID names this very process (sh execs the daemon): pings.
  const own = daemon({ NOTIFY_SOCKET: path.join(dir, 'notify.sock'), WATCHDOG_USEC: '300000' },
    { shell: 'WATCHDOG_PID=$$; export WATCHDOG_PID;' });
  mark = mgr.messages.length;
  t.check(await mgr.wait(isReady, mark) !== null, 'READY=1 (WATCHDOG_PID is ours)', own.log());
  t.check(await mgr.wait((m) => m.fields.WATCHDOG === '1', mark, 3000 * slow) !== null,
    'WATCHDOG_PID = our pid: pings', own.log());
  t.check(await own.stop() === 0, 'exit 0');
  await mgr.stop();
}

// 3. An abstract socket; WATCHDOG_PID names another process: no pings.
{
  const name = `@cde-notify-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const mgr = await manager(name);
  const d = daemon({ NOTIFY_SOCKET: name, WATCHDOG_USEC: '200000', WATCHDOG_PID: '1' });
  const ready = await mgr.wait(isReady);
  t.check(ready !== null, 'abstract NOTIFY_SOCKET (@name): READY=1', d.log());
  await sleep(800 * slow); // no ping within 800 ms (every 100 ms asked) is what is tested
  t.check(watchdogs(mgr, 0) === 0, 'WATCHDOG_PID of another process: no pings',
    mgr.messages.map((m) => m.line).join(' | '));
  t.check(!/watchdog:/.test(d.log()), 'and no watchdog is started');
  const mark = mgr.messages.length;
  t.check(await d.stop() === 0, 'exit 0');
  t.check(await mgr.wait((m) => m.fields.STOPPING === '1', mark, 2000) !== null, 'STOPPING=1 on the abstract socket');
  await mgr.stop();
}

// 4. The manager's socket is gone: one warning, and the daemon runs on.
{
  const d = daemon({ NOTIFY_SOCKET: path.join(dir, 'nobody.sock'), WATCHDOG_USEC: '200000' });
  const address = await waitFor(() => /listening on (\S+)/.exec(d.log())?.[1], 10000);
  // The first notification fails and warns; no more warnings within the
  // next 600 ms (6 pings) is what is tested.
  await waitFor(() => /cannot notify the service manager/.test(d.log()), 10000);
  await sleep(600);
  t.check(address && healthz(`http://${address}`) === 200, 'no manager listening: the daemon serves anyway', d.log());
  const warnings = d.log().match(/cannot notify the service manager/g) ?? [];
  t.check(warnings.length === 1, 'one warning, not one per ping', d.log());
  t.check(await d.stop() === 0, 'and stops cleanly');
}

fs.rmSync(dir, { recursive: true, force: true });
t.finish();
