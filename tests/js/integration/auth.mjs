// Authentication against a real daemon: bearer tokens with scopes, GitHub
// and Standard Webhooks signatures computed by Node's crypto (an
// implementation independent of ours), replays, stale timestamps, and the
// refusal to start unprotected on a public address.
//
//   node tests/js/integration/auth.mjs path/to/cdeventsd
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startDaemon, curl, checker } from '../daemon.mjs';

const t = checker();
const bin = process.argv[2];
const cdevctl = process.argv[3];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-auth-'));
const file = (name, text) => { const p = path.join(dir, name); fs.writeFileSync(p, text, { mode: 0o600 }); return p; };
const jenkinsToken = crypto.randomBytes(24).toString('hex');
const readerToken = crypto.randomBytes(24).toString('hex');
const githubSecret = 'gh-' + crypto.randomBytes(16).toString('hex');
const whOld = crypto.randomBytes(32), whNew = crypto.randomBytes(32);
const cfg = file('cdeventsd.yaml', `principals:
  - name: jenkins
    scopes: [emit]
    token_file: ${file('jenkins.token', jenkinsToken + '\n')}
  - name: reader
    scopes: [query]
    token_env: CDE_TEST_READER_TOKEN
  - name: github
    github_secret_file: ${file('github.secret', githubSecret + '\n')}
  - name: tekton
    webhook_secret_files:
      - ${file('wh-new', 'whsec_' + whNew.toString('base64'))}
      - ${file('wh-old', 'whsec_' + whOld.toString('base64'))}
`);
const d = await startDaemon(bin, ['-c', cfg, '--state-dir', path.join(dir, 'state')],
  { CDE_TEST_READER_TOKEN: readerToken });
const url = `${d.url}/v1/hooks/build`;
const body = JSON.stringify({ phase: 'started', subject: 'etl-build-1' });
const post = (headers, b = body, u = url) =>
  curl(['-X', 'POST', '-H', 'Content-Type: application/json', ...headers.flatMap((h) => ['-H', h]),
    '--data-binary', b, '-D', '-', u]);

// Tokens and scopes.
let r = post([]);
t.check(r.status === 401 && r.body.includes('WWW-Authenticate: Bearer realm="cdeventsd"') &&
  r.body.includes('authentication required'), 'no credentials: 401 with a challenge', r.body);
r = post(['Authorization: Bearer wrong']);
t.check(r.status === 401 && r.body.includes('unknown token'), 'a wrong token: 401', r.body);
r = post([`Authorization: Bearer ${jenkinsToken}`], body, `${url}?dry_run=1`);
t.check(r.status === 200 && r.body.includes('"source":"/jenkins"'),
  'a valid token: accepted, and the principal names the default source', r.body);
r = post([`Authorization: Bearer ${jenkinsToken}`]);
t.check(r.status === 202, 'a valid token posts', r.body);
r = post([`Authorization: Bearer ${readerToken}`]);
t.check(r.status === 403 && r.body.includes('scopes'), 'a token without the emit scope: 403', r.body);
t.check(curl([`${d.url}/healthz`]).status === 200, 'health checks need no credentials');

// GitHub's X-Hub-Signature-256, computed by Node.
const gh = (b) => 'sha256=' + crypto.createHmac('sha256', githubSecret).update(b).digest('hex');
r = post([`X-Hub-Signature-256: ${gh(body)}`]);
t.check(r.status === 202, 'a GitHub-signed request is accepted', r.body);
r = post([`X-Hub-Signature-256: ${gh(body)}`], body.replace('etl-build-1', 'etl-build-2'));
t.check(r.status === 401 && r.body.includes('does not match'), 'a tampered body fails the GitHub signature', r.body);

// Standard Webhooks, signed by Node with the second of two secrets
// (rotation), then replayed, then stale.
const sw = (key, id, ts, b) => 'v1,' + crypto.createHmac('sha256', key).update(`${id}.${ts}.${b}`).digest('base64');
const now = Math.floor(Date.now() / 1000);
const headers = (id, ts, sig) => [`webhook-id: ${id}`, `webhook-timestamp: ${ts}`, `webhook-signature: ${sig}`];
r = post(headers('msg_1', now, `v1,bm9wZQ== ${sw(whOld, 'msg_1', now, body)}`));
t.check(r.status === 202, 'a Standard Webhooks request signed with a rotated-out key is accepted', r.body);
r = post(headers('msg_1', now, sw(whOld, 'msg_1', now, body)));
t.check(r.status === 200 && r.body.includes('"resent":true') && r.body.includes('nothing new was stored'),
  'the same webhook-id again: a re-send, answered 200 and not stored again', r.body);
r = post(headers('msg_2', now - 400, sw(whNew, 'msg_2', now - 400, body)));
t.check(r.status === 401 && r.body.includes('5 minutes'), 'a timestamp over 5 minutes old: refused', r.body);
r = post(headers('msg_3', now, sw(crypto.randomBytes(32), 'msg_3', now, body)));
t.check(r.status === 401 && r.body.includes('does not match'), 'an unknown key: refused', r.body);
r = post(headers('msg_4', now, sw(whNew, 'msg_4', now, body)));
t.check(r.status === 202, 'the current key works', r.body);

// A signed request refused after authentication (here: an invalid hook)
// does not use up its id: the sender's retry, same id and a new
// timestamp, goes through.
const bad = JSON.stringify({ phase: 'exploded', subject: 'x' });
r = post(headers('msg_5', now, sw(whNew, 'msg_5', now, bad)), bad);
t.check(r.status === 400, 'an invalid signed hook is refused with 400', r.body);
r = post(headers('msg_5', now + 1, sw(whNew, 'msg_5', now + 1, body)));
t.check(r.status === 202, 'its retry with the same webhook-id is accepted', r.body);
// Reading the audit log needs the query scope: cdevctl with the reader's
// token (from the environment, never argv) can, the emitter's cannot.
let q = spawnSync(cdevctl, ['audit', 'query', '--url', d.url, '--limit', '3'],
  { encoding: 'utf8', env: { ...process.env, CDEVENTSD_TOKEN: readerToken } });
t.check(q.status === 0 && q.stdout.split('\n').filter(Boolean).length === 3 && q.stdout.includes('"principal":"jenkins"'),
  'cdevctl audit query --url reads the log with a query token', q.stdout + q.stderr);
q = spawnSync(cdevctl, ['audit', 'query', '--url', d.url, '--token-file', path.join(dir, 'jenkins.token')],
  { encoding: 'utf8' });
t.check(q.status === 2 && q.stderr.includes('forbidden'), 'an emit-only token cannot read it', q.stderr);
t.check(!d.log().includes(jenkinsToken) && !d.log().includes(githubSecret), 'no secret appears in the log');
t.check(await d.stop() === 0, 'exits 0 on SIGTERM', d.log().slice(-300));

// Refusals at start.
let s = spawnSync(bin, ['--listen', '0.0.0.0:0', '--state-dir', path.join(dir, 'state')], { encoding: 'utf8', timeout: 5000 });
t.check(s.status === 1 && s.stderr.includes('not loopback, with no principals'),
  'a public listener without principals does not start', s.stderr);
fs.writeFileSync(path.join(dir, 'missing.yaml'), 'principals:\n  - name: ci\n    token_file: /nonexistent/ci.token\n');
s = spawnSync(bin, ['-c', path.join(dir, 'missing.yaml'), '--listen', '127.0.0.1:0', '--state-dir', path.join(dir, 'state')],
  { encoding: 'utf8', timeout: 5000 });
t.check(s.status === 1 && s.stderr.includes('principal ci: token_file /nonexistent/ci.token: No such file'),
  'a missing token file stops the start and says which', s.stderr);
fs.rmSync(dir, { recursive: true });
t.finish();
