// Starts a real cdeventsd on a free loopback port for a test, and stops it.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// With CDE_TEST_STORAGE=postgres (the pg-* suites, run by tests/pg/cluster,
// which sets CDE_PG_DIR) every daemon keeps its log in PostgreSQL: a
// database of its own per state directory, so that a daemon restarted on
// the same state directory finds its log again, as with audit.db.
export const pgMode = process.env.CDE_TEST_STORAGE === 'postgres';

// The --db of cdevctl for the log of @stateDir: audit.db, or the url of
// its database (made on first use).
export function auditDb(stateDir) {
  if (!pgMode) return path.join(stateDir, 'audit.db');
  const dir = process.env.CDE_PG_DIR;
  const port = fs.readFileSync(path.join(dir, 'port'), 'utf8').trim();
  const name = 'cde_' + crypto.createHash('sha256').update(fs.realpathSync(stateDir)).digest('hex').slice(0, 16);
  const psql = (sql) => spawnSync('psql', ['-h', dir, '-p', port, '-U', 'postgres', '-d', 'postgres', '-tAc', sql],
    { encoding: 'utf8' });
  if (psql(`SELECT 1 FROM pg_database WHERE datname = '${name}'`).stdout.trim() !== '1') {
    const r = psql(`CREATE DATABASE ${name} OWNER cdeventsd`);
    if (r.status !== 0) throw new Error(`creating database ${name}: ${r.stderr}`);
  }
  return `host=${dir} port=${port} dbname=${name} user=cdeventsd`;
}

// Runs @sql on the log of @stateDir behind the daemon's back (sqlite3 on
// audit.db, or psql on its database), as a tampering test does; the
// result's stdout is the values, one row a line, as sqlite3 prints them.
export function auditSql(stateDir, sql) {
  return pgMode
    ? spawnSync('psql', ['-d', auditDb(stateDir), '-qtAX', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' })
    : spawnSync('sqlite3', [auditDb(stateDir), sql], { encoding: 'utf8' });
}

// The daemon listens on 127.0.0.1:0 unless @args name --listen (a test
// that reads the address from its config file passes { listenFlag: false }).
export async function startDaemon(binary, args = [], env = {}, { listenFlag = true } = {}) {
  // Each daemon gets its own state directory unless the test names one.
  const stateDir = args.includes('--state-dir') ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'cde-state-'));
  if (stateDir) args = [...args, '--state-dir', stateDir];
  if (pgMode && !args.includes('--storage-url')) {
    fs.mkdirSync(stateDir ?? args[args.indexOf('--state-dir') + 1], { recursive: true });
    args = [...args, '--storage-url', auditDb(stateDir ?? args[args.indexOf('--state-dir') + 1])];
  }
  // CDE_DAEMON_WRAPPER runs the daemon under a tool, e.g.
  // "valgrind --error-exitcode=99 --leak-check=full" (make valgrind); such
  // a tool's findings make the daemon's exit status non-zero, which every
  // test checks on stop.
  const wrapper = (process.env.CDE_DAEMON_WRAPPER || '').split(' ').filter(Boolean);
  const proc = spawn(wrapper[0] || binary, [...wrapper.slice(1), ...(wrapper.length ? [binary] : []),
    ...(listenFlag && !args.includes('--listen') ? ['--listen', '127.0.0.1:0'] : []), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const address = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('cdeventsd did not start:\n' + log)), wrapper.length ? 120000 : 10000);
    proc.stderr.on('data', (d) => {
      log += d;
      const m = /listening on (\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('exit', (code) => reject(new Error(`cdeventsd exited ${code}:\n${log}`)));
  });
  proc.stderr.removeAllListeners('data');
  proc.stderr.on('data', (d) => { log += d; });
  let [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  // A wildcard listener is reached on loopback: tests talk to 127.0.0.1 only.
  if (host === '0.0.0.0') host = '127.0.0.1';
  return {
    proc, host, port, url: `http://${host}:${port}`, stateDir,
    log: () => log,
    // SIGTERM, then the exit code.
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve(proc.exitCode);
      proc.on('exit', (code, sig) => resolve(code ?? sig));
      proc.kill('SIGTERM');
    }),
  };
}

// curl, as a Jenkins shell step runs it: returns {status, body}.
export function curl(args) {
  const r = spawnSync('curl', ['-sS', '-o', '-', '-w', '\n%{http_code}', ...args], { encoding: 'utf8' });
  const out = r.stdout;
  const nl = out.lastIndexOf('\n');
  const body = out.slice(0, nl);
  let json = null;
  try { json = JSON.parse(body); } catch { /* not JSON */ }
  return { status: Number(out.slice(nl + 1)), body, json, stderr: r.stderr };
}

export function postJson(url, payload, extra = []) {
  return curl(['-X', 'POST', '-H', 'Content-Type: application/json',
    '--data-binary', typeof payload === 'string' ? payload : JSON.stringify(payload), ...extra, url]);
}

// Sends raw bytes on a socket and collects the reply until the server
// closes or @ms pass. @halfClose ends our side after sending.
export function raw(d, bytes, { halfClose = false, ms = 3000 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(d.port, d.host);
    let data = '';
    const done = () => { clearTimeout(t); s.destroy(); resolve(data); };
    const t = setTimeout(done, ms);
    s.on('connect', () => { s.write(bytes); if (halfClose) s.end(); });
    s.on('data', (c) => { data += c; });
    s.on('close', done);
    s.on('error', done);
  });
}

export function statusOf(response) {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(response);
  return m ? Number(m[1]) : 0;
}

// A tiny assertion counter that ends with "N passed, M failed".
export function checker() {
  let passed = 0, failed = 0;
  return {
    check(ok, name, detail = '') {
      if (ok) passed++;
      else {
        failed++;
        console.log(`FAIL ${name}${detail ? ': ' + detail : ''}`);
      }
    },
    finish() {
      console.log(`${passed} passed, ${failed} failed`);
      process.exitCode = failed ? 1 : 0;
    },
  };
}

// Under CDE_DAEMON_WRAPPER (valgrind) the daemon runs tens of times
// slower: every deadline a test waits on is stretched by this factor.
// Deadlines only matter when a test fails, so they are generous.
export const slowdown = process.env.CDE_DAEMON_WRAPPER ? 20 : 1;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls @cond (which may be async) every @every ms until it returns
// something truthy or @ms (times slowdown) pass; returns its last value.
// A test waits for the condition it means, never for a fixed time.
export async function waitFor(cond, ms = 5000, { every = 20 } = {}) {
  const until = Date.now() + ms * slowdown;
  for (;;) {
    const v = await cond();
    if (v || Date.now() >= until) return v;
    await sleep(every);
  }
}

// Waits until the daemon's log, from offset @from on, contains @text (a
// string or a RegExp).
export function waitForLog(d, text, from = 0, ms = 10000) {
  const has = () => {
    const log = d.log().slice(from);
    return typeof text === 'string' ? log.includes(text) : text.test(log);
  };
  return waitFor(has, ms, { every: 50 });
}

// Waits until GET /v1/sinks satisfies @cond(sink) for each sink named in
// @want ({name: cond}); returns the last status document (null if the
// daemon did not answer). Polls every 100 ms: each poll runs curl.
export async function waitForSinks(d, want, ms = 20000) {
  let st = null;
  await waitFor(() => {
    st = curl([`${d.url}/v1/sinks`]).json;
    return Object.entries(want).every(([name, cond]) => {
      const s = st?.sinks?.find((x) => x.name === name);
      return s && cond(s);
    });
  }, ms, { every: 100 });
  return st;
}

// The daemon's side of each TCP connection on its port, from
// /proc/net/tcp: {state, rx}, with the kernel's state numbers (01
// established, 08 closed by the client but not yet by the daemon) and rx
// the bytes the daemon has not read yet.
export function serverSockets(d) {
  const port = `:${d.port.toString(16).toUpperCase().padStart(4, '0')}`;
  return fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length > 4 && f[1].endsWith(port) && f[3] !== '0A')
    .map((f) => ({ state: f[3], rx: parseInt(f[4].split(':')[1], 16) }));
}

// A loopback port nobody listens on (yet): a receiver that is down.
export const freePort = () => new Promise((r) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); });
});

// Posts @n build.started events with ids `${tag}-0` ... as CloudEvents
// batches of 500, as fast as the daemon takes them: a backlog.
// A config file in a new temporary folder: one webhook sink "lake" to
// @port on loopback that every event is routed to and that keeps retrying
// for an hour, plus @extra lines of its options (indented by four).
export function lakeSinkConfig(port, tag, extra = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cde-${tag}-`));
  const cfg = path.join(dir, 'cdeventsd.yaml');
  fs.writeFileSync(cfg, `limits: { queue_max: 100000 }
sinks:
  - name: lake
    type: webhook
    url: http://127.0.0.1:${port}/events
${extra.map((l) => `    ${l}\n`).join('')}    max_attempts: 1000000
    max_age: 1h
routes:
  - sinks: [lake]
`);
  return { dir, cfg };
}

export async function postBacklog(d, n, tag, source = '/backlog') {
  const type = 'dev.cdevents.build.started.0.3.0';
  for (let i = 0; i < n; i += 500) {
    const batch = [];
    for (let k = i; k < Math.min(n, i + 500); k++) {
      batch.push({ specversion: '1.0', id: `${tag}-${k}`, source, type, data: {
        context: { specversion: '0.5.1', id: `${tag}-${k}`, source, type, timestamp: '2025-01-01T00:00:00Z' },
        subject: { id: `build-${k}`, content: {} } } });
    }
    const res = await fetch(`${d.url}/v1/events`, { method: 'POST',
      headers: { 'Content-Type': 'application/cloudevents-batch+json' }, body: JSON.stringify(batch) });
    await res.text();
    if (res.status !== 202) throw new Error(`load failed: ${res.status}`);
  }
}
