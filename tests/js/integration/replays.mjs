// Replays of signed requests against a real daemon: the memory of
// Standard Webhooks ids and of GitHub-signed bodies is per principal, is
// not touched by dry runs, survives a reload and a restart (it lives in
// the state directory), and forgets a request that was refused after
// authentication so that the sender's retry or GitHub's "Redeliver" works.
// A copy of a request that was stored is a re-send: answered 200
// ("resent": an at-least-once sender stops retrying), and nothing is
// stored again.
//
//   node tests/js/integration/replays.mjs path/to/cdeventsd
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startDaemon, curl, checker, waitForLog } from '../daemon.mjs';

const t = checker();
const [bin, cdevctl] = process.argv.slice(2, 4);
const resent = (r) => r.status === 200 && r.json?.resent === true && r.json?.duplicate === true;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-replay-'));
const state = path.join(dir, 'state');
const file = (name, text) => { const p = path.join(dir, name); fs.writeFileSync(p, text, { mode: 0o600 }); return p; };
const keyA = crypto.randomBytes(32), keyB = crypto.randomBytes(32);
const githubSecret = 'gh-' + crypto.randomBytes(16).toString('hex');
const cfg = file('cdeventsd.yaml', `principals:
  - name: argo
    webhook_secret_files: [${file('argo.whsec', 'whsec_' + keyA.toString('base64'))}]
  - name: flux
    webhook_secret_files: [${file('flux.whsec', 'whsec_' + keyB.toString('base64'))}]
  - name: github
    github_secret_file: ${file('github.secret', githubSecret + '\n')}
`);
const start = () => startDaemon(bin, ['-c', cfg, '--state-dir', state]);
let d = await start();

const sw = (key, id, ts, b) => 'v1,' + crypto.createHmac('sha256', key).update(`${id}.${ts}.${b}`).digest('base64');
const gh = (b) => 'sha256=' + crypto.createHmac('sha256', githubSecret).update(b).digest('hex');
const hook = (subject, phase = 'started') => JSON.stringify({ phase, subject });
const post = (headers, b, query = '') =>
  curl(['-X', 'POST', '-H', 'Content-Type: application/json', ...headers.flatMap((h) => ['-H', h]),
    '--data-binary', b, `${d.url}/v1/hooks/build${query}`]);
const signed = (key, id, b, query = '', ts = Math.floor(Date.now() / 1000)) =>
  post([`webhook-id: ${id}`, `webhook-timestamp: ${ts}`, `webhook-signature: ${sw(key, id, ts, b)}`], b, query);
const github = (b, delivery = crypto.randomUUID()) =>
  post([`X-Hub-Signature-256: ${gh(b)}`, `X-GitHub-Delivery: ${delivery}`], b);

// A dry run checks the signature but records nothing.
let r = signed(keyA, 'msg_dry', hook('dry-1'), '?dry_run=1');
t.check(r.status === 200, 'a signed dry run is answered', r.body);
r = signed(keyA, 'msg_dry', hook('dry-1'));
t.check(r.status === 202, 'a dry run does not use up its webhook-id: the real post with it is accepted', r.body);

// One signer's flood cannot lock another out. 65,536 signed dry runs
// filled the single memory of every signer before.
async function flood(n, concurrency = 16) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses = {};
  let next = 0;
  const one = (i) => new Promise((resolve, reject) => {
    const b = hook(`flood-${i}`), id = `flood_${i}`, ts = Math.floor(Date.now() / 1000);
    const req = http.request(`${d.url}/v1/hooks/build?dry_run=1`, {
      method: 'POST', agent, headers: {
        'Content-Type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts,
        'webhook-signature': sw(keyA, id, ts, b),
      },
    }, (res) => { res.resume(); res.on('end', () => { statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1; resolve(); }); });
    req.on('error', reject);
    req.end(b);
  });
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await one(next++);
  }));
  agent.destroy();
  return statuses;
}
const statuses = await flood(65536 + 64);
t.check(Object.keys(statuses).join() === '200', 'a flood of 65,600 signed dry runs from one signer is answered 200 throughout',
  JSON.stringify(statuses));
r = signed(keyB, 'msg_b1', hook('flux-1'));
t.check(r.status === 202, 'after the flood, another signer still posts', r.body);
r = signed(keyA, 'msg_a1', hook('argo-1'));
t.check(r.status === 202, 'and so does the flooding signer (dry runs recorded nothing)', r.body);

// The same id from another principal is not a replay of the first's.
r = signed(keyB, 'msg_a1', hook('flux-2'));
t.check(r.status === 202, 'webhook-ids are remembered per principal', r.body);

// GitHub signs the body only (X-GitHub-Delivery is not covered), so the
// body is what is remembered.
const ghBody = hook('gh-release-77');
r = github(ghBody);
t.check(r.status === 202, 'a GitHub-signed hook is accepted', r.body);
r = github(ghBody);
t.check(resent(r), 'the same signed body again, with a fresh X-GitHub-Delivery: a re-send, 200, nothing stored', r.body);
const ghBad = hook('gh-bad', 'exploded');
r = github(ghBad);
t.check(r.status === 400, 'a GitHub-signed invalid hook: 400', r.body);
r = github(ghBad);
t.check(r.status === 400, 'a refused delivery is forgotten: its redelivery gets the same answer, not "replay"', r.body);

// Standard Webhooks: refused after authentication, then retried after
// a restart: the forget is kept too.
const now = Math.floor(Date.now() / 1000);
r = signed(keyA, 'msg_retry', hook('x', 'exploded'), '', now);
t.check(r.status === 400, 'an invalid signed hook: 400', r.body);

// A reload keeps the memory.
d.proc.kill('SIGHUP');
t.check(await waitForLog(d, 'configuration reloaded'), 'SIGHUP reloads', d.log().slice(-300));
r = signed(keyA, 'msg_a1', hook('argo-1'));
t.check(resent(r), 'after a reload, a used webhook-id is still a re-send', r.body);
r = github(ghBody);
t.check(resent(r), 'after a reload, a used GitHub body is still a re-send', r.body);

// A restart keeps it too.
t.check(await d.stop() === 0, 'exits 0 on SIGTERM', d.log().slice(-300));
d = await start();
r = signed(keyA, 'msg_a1', hook('argo-1'));
t.check(resent(r), 'after a restart, a used webhook-id is still a re-send', r.body);
r = signed(keyB, 'msg_b1', hook('flux-1'));
t.check(resent(r), 'after a restart, the other principal\'s ids are still re-sends', r.body);
r = github(ghBody);
t.check(resent(r), 'after a restart, a used GitHub body is still a re-send', r.body);
r = signed(keyA, 'msg_retry', hook('retried'), '', now + 1);
t.check(r.status === 202, 'after a restart, the retry of a refused request goes through', r.body);
r = signed(keyA, 'msg_retry', hook('retried'), '', now + 2);
t.check(resent(r), 'and its id is then used', r.body);
t.check(await d.stop() === 0, 'exits 0 on SIGTERM after the restart', d.log().slice(-300));
// Past the memory's window (its file gone, as if every key expired), a
// copy of a signed hook is still the same event: its id is named by what
// was signed, so the store answers it as a duplicate.
fs.rmSync(path.join(state, 'replay.bin'));
d = await start();
r = github(ghBody);
t.check(r.status === 200 && r.json?.duplicate === true && /^signed-[0-9a-f]{32}$/.test(r.json?.id ?? ''),
  'past the replay window, a signed hook without an id is a duplicate of itself, not a new event', r.body);
t.check(await d.stop() === 0, 'exits 0', d.log().slice(-300));
// However often they were re-sent, each was stored once.
const count = (subject) => spawnSync(cdevctl, ['audit', 'query', '--db', path.join(state, 'audit.db'), '--subject', subject],
  { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length;
t.check(count('gh-release-77') === 1 && count('argo-1') === 1 && count('flux-1') === 1 && count('retried') === 1,
  'every re-sent request was stored once', `${count('gh-release-77')} ${count('argo-1')} ${count('flux-1')} ${count('retried')}`);
fs.rmSync(dir, { recursive: true });
t.finish();
