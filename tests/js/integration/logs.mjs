// The log against a real daemon: JSON lines that all parse, then logfmt
// after a SIGHUP; request ids (the client's X-Request-Id or a generated
// one) in the reply and on every line about the request; a hostile path
// that cannot forge a line; levels that filter; and no token, signature or
// secret anywhere in the log, whatever was sent, good or bad.
//
//   node tests/js/integration/logs.mjs path/to/cdeventsd
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startDaemon, raw, statusOf, checker } from '../daemon.mjs';

const t = checker();
const bin = process.argv[2];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-logs-'));
const file = (name, text) => { const p = path.join(dir, name); fs.writeFileSync(p, text, { mode: 0o600 }); return p; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every secret the daemon holds or is sent.
const token = crypto.randomBytes(24).toString('hex');
const wrongToken = crypto.randomBytes(24).toString('hex');
const basic = Buffer.from(`jenkins:${crypto.randomBytes(12).toString('hex')}`).toString('base64');
const githubSecret = 'gh-' + crypto.randomBytes(16).toString('hex');
const whKey = crypto.randomBytes(32);
const whText = 'whsec_' + whKey.toString('base64');
const auditKey = crypto.randomBytes(48);
const sinkToken = crypto.randomBytes(20).toString('hex');
const sinkKey = crypto.randomBytes(32);
const sinkApiKey = 'api-' + crypto.randomBytes(16).toString('hex');
const sent = [];	// signatures we sent: derived from secrets, never logged either

const cfgFile = path.join(dir, 'cdeventsd.yaml');
const writeConfig = (format, level, every = 1000) => fs.writeFileSync(cfgFile, `log_format: ${format}
log_level: ${level}
audit:
  hmac_key_file: ${file('audit.key', auditKey)}
  checkpoint_every: ${every}
principals:
  - name: jenkins
    token_file: ${file('jenkins.token', token + '\n')}
  - name: github
    github_secret_file: ${file('github.secret', githubSecret + '\n')}
  - name: tekton
    webhook_secret_files: [${file('tekton.whsec', whText)}]
sinks:
  - name: nowhere
    type: webhook
    url: http://127.0.0.1:9/hook
    token_file: ${file('sink.token', sinkToken)}
    secret_file: ${file('sink.whsec', 'whsec_' + sinkKey.toString('base64'))}
    headers: { X-Api-Key: ${sinkApiKey} }
    timeout: 1s
    max_backoff: 1s
routes:
  - sinks: [nowhere]
`);
writeConfig('json', 'info');
const d = await startDaemon(bin, ['-c', cfgFile, '--state-dir', path.join(dir, 'state')]);
const hookUrl = `${d.url}/v1/hooks/build`;

// curl with the reply's headers: {status, headers (lower-case names), body}.
function request(url, headers = [], body = null, extra = []) {
  const args = ['-sS', '-D', '-', '-o', '-', ...headers.flatMap((h) => ['-H', h]), ...extra];
  if (body !== null) args.push('-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary', body);
  const r = spawnSync('curl', [...args, url], { encoding: 'utf8' });
  const out = r.stdout;
  const split = out.lastIndexOf('\r\n\r\n');
  const head = out.slice(0, split), text = out.slice(split + 4);
  const block = head.slice(head.lastIndexOf('HTTP/1.1'));
  const hdrs = {};
  for (const line of block.split('\r\n').slice(1)) {
    const c = line.indexOf(':');
    if (c > 0) hdrs[line.slice(0, c).toLowerCase()] = line.slice(c + 1).trim();
  }
  return { status: statusOf(block), headers: hdrs, body: text };
}
const hook = (subject, extra = {}) => JSON.stringify({ phase: 'started', subject, ...extra });
const bearer = (tok = token) => `Authorization: Bearer ${tok}`;
const rid = (id) => `X-Request-Id: ${id}`;

// The daemon's lines written since @from, parsed by @parse (a tool's
// own lines, valgrind's "==pid==" under CDE_DAEMON_WRAPPER, left out);
// waits until @want (a predicate on the parsed lines) holds or 5 s pass
// (60 s under a wrapper).
const patience = process.env.CDE_DAEMON_WRAPPER ? 1200 : 100;
async function linesSince(from, parse, want = () => true) {
  let lines = [];
  for (let i = 0; i < patience; i++) {
    lines = d.log().slice(from).split('\n').filter((l) => l && !/^==\d+==/.test(l)).map(parse);
    if (want(lines)) break;
    await sleep(50);
  }
  return lines;
}
const asJson = (l) => { try { return JSON.parse(l); } catch { return { unparsed: l }; } };
const byReq = (lines, id) => lines.filter((l) => l.req === id);

// ---- JSON ----
let r = request(hookUrl, [bearer(), rid('jenkins-build-42.step_1')], hook('etl-1'));
t.check(r.status === 202 && r.headers['x-request-id'] === 'jenkins-build-42.step_1',
  'an accepted request echoes its X-Request-Id', JSON.stringify(r));
r = request(hookUrl, [bearer()], hook('etl-2'));
const generated = r.headers['x-request-id'];
t.check(r.status === 202 && /^[0-9a-f]{16}$/.test(generated ?? ''), 'without X-Request-Id, one is generated', JSON.stringify(r));
const other = request(hookUrl, [bearer()], hook('etl-3')).headers['x-request-id'];
t.check(other && other !== generated, 'generated ids differ', `${generated} ${other}`);
r = request(hookUrl, [bearer(), rid('not a "token"; level=error')], hook('etl-4'));
const replaced1 = r.headers['x-request-id'];
t.check(r.status === 202 && /^[0-9a-f]{16}$/.test(replaced1 ?? ''), 'an X-Request-Id that is not a plain token is replaced', JSON.stringify(r));
r = request(hookUrl, [bearer(), rid('a'.repeat(65))], hook('etl-5'));
t.check(/^[0-9a-f]{16}$/.test(r.headers['x-request-id'] ?? ''), 'one over 64 characters too', JSON.stringify(r.headers));
t.check(request(hookUrl, [bearer(), rid('b'.repeat(64))], hook('etl-6')).headers['x-request-id'] === 'b'.repeat(64),
  '64 characters are kept');

// Refusals: bad credentials of every kind, a bad hook, a duplicate.
r = request(hookUrl, [bearer(wrongToken), rid('wrong-token-1')], hook('x'));
t.check(r.status === 401 && r.headers['x-request-id'] === 'wrong-token-1', 'a wrong token: 401 with the request id', JSON.stringify(r));
request(hookUrl, [`Authorization: Basic ${basic}`, rid('basic-1')], hook('x'));
const gh = (secret, b) => 'sha256=' + crypto.createHmac('sha256', secret).update(b).digest('hex');
let b = hook('gh-1');
sent.push(gh(githubSecret, b));
t.check(request(hookUrl, [`X-Hub-Signature-256: ${gh(githubSecret, b)}`, rid('github-good')], b).status === 202,
  'a GitHub-signed request is accepted');
sent.push(gh('not-the-secret', b));
t.check(request(hookUrl, [`X-Hub-Signature-256: ${gh('not-the-secret', b)}`, rid('github-bad')], b).status === 401,
  'a bad GitHub signature: 401');
const now = Math.floor(Date.now() / 1000);
const sw = (key, id, b2) => 'v1,' + crypto.createHmac('sha256', key).update(`${id}.${now}.${b2}`).digest('base64');
const swHeaders = (id, sig) => [`webhook-id: ${id}`, `webhook-timestamp: ${now}`, `webhook-signature: ${sig}`];
b = hook('sw-1');
sent.push(sw(whKey, 'msg_1', b), sw(crypto.randomBytes(32), 'msg_2', b));
t.check(request(hookUrl, [...swHeaders('msg_1', sent.at(-2)), rid('sw-good')], b).status === 202,
  'a Standard Webhooks request is accepted');
t.check(request(hookUrl, [...swHeaders('msg_2', sent.at(-1)), rid('sw-bad')], b).status === 401,
  'a bad Standard Webhooks signature: 401');
t.check(request(hookUrl, [bearer(), rid('bad-hook')], JSON.stringify({ phase: 'exploded', subject: 'x' })).status === 400,
  'an invalid hook: 400');
b = hook('dup', { id: 'dup-event-1' });
request(hookUrl, [bearer(), rid('dup-first')], b);
t.check(request(hookUrl, [bearer(), rid('dup-second')], b).status === 200, 'the same event again: 200');
// A path that decodes to a newline and a forged line.
r = request(`${d.url}/v1/hooks/evil%0A{"ts":"0","level":"error","msg":"forged"}%0Ats=0%20level=error%20msg=%22forged%22`,
  [bearer(), rid('evil-path')], hook('x'), ['--path-as-is', '-g']);
t.check(r.status === 404, 'a hostile path: 404', JSON.stringify(r));
// Refused by the server before any handler: 413 from Content-Length alone.
let reply = await raw(d, `POST /v1/hooks/build HTTP/1.1\r\nHost: x\r\nX-Request-Id: too-big-1\r\n${bearer()}\r\n` +
  'Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n');
t.check(statusOf(reply) === 413 && reply.includes('X-Request-Id: too-big-1\r\n'), 'a 413 from the server carries the id', reply);
reply = await raw(d, `GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n`);
t.check(statusOf(reply) === 400 && /X-Request-Id: [0-9a-f]{16}\r\n/.test(reply), 'so does a 400 for a malformed head', reply);

let lines = await linesSince(0, asJson, (ls) => byReq(ls, 'too-big-1').length > 0);
t.check(lines.length > 20 && lines.every((l) => typeof l.ts === 'string' && typeof l.level === 'string' &&
  typeof l.msg === 'string' && ['error', 'warn', 'info', 'debug'].includes(l.level)),
  'every JSON line parses and has ts, level and msg', lines.filter((l) => l.unparsed || !l.ts).map((l) => JSON.stringify(l)).join('\n'));
t.check(lines.some((l) => l.msg.includes('listening on')), 'the start is logged in JSON too');
let mine = byReq(lines, 'jenkins-build-42.step_1');
t.check(mine.length === 1 && mine[0].msg === 'event accepted' && mine[0].level === 'info' &&
  mine[0].type?.startsWith('dev.cdevents.build.started.') && mine[0].principal === 'jenkins' &&
  /^\d+$/.test(mine[0].seq ?? '') && mine[0].id && mine[0].source === '/jenkins' && mine[0].peer?.startsWith('127.0.0.1:'),
  'the accepted event is one line with the request id and its fields', JSON.stringify(mine));
t.check(byReq(lines, generated).length === 1 && byReq(lines, generated)[0].msg === 'event accepted',
  'a generated id is on its line', JSON.stringify(byReq(lines, generated)));
t.check(byReq(lines, replaced1).length === 1 && !d.log().includes('not a \\"token\\"'),
  'a replaced id is logged, the refused one is not');
mine = byReq(lines, 'wrong-token-1');
t.check(mine.length === 1 && mine[0].msg === 'request refused' && mine[0].level === 'warn' && mine[0].status === '401' &&
  mine[0].detail === 'unknown token' && mine[0].path === '/v1/hooks/build' && mine[0].method === 'POST',
  'the refused token is one warn line: status, path, reason', JSON.stringify(mine));
for (const [id, status, level] of [['basic-1', '401', 'warn'], ['github-bad', '401', 'warn'], ['sw-bad', '401', 'warn'],
  ['bad-hook', '400', 'info'], ['evil-path', '404', 'info'], ['too-big-1', '413', 'info']]) {
  mine = byReq(lines, id);
  t.check(mine.length === 1 && mine[0].msg === 'request refused' && mine[0].status === status && mine[0].level === level,
    `${id}: one ${level} line, status ${status}`, JSON.stringify(mine));
}
t.check(byReq(lines, 'bad-hook')[0]?.detail?.includes('/phase'), 'a 400 names the first wrong field', JSON.stringify(byReq(lines, 'bad-hook')));
t.check(byReq(lines, 'github-good')[0]?.principal === 'github' && byReq(lines, 'sw-good')[0]?.principal === 'tekton',
  'signed requests are logged with their principal');
mine = byReq(lines, 'dup-second');
t.check(mine.length === 1 && mine[0].msg === 'event duplicate' && mine[0].id === 'dup-event-1', 'a duplicate is logged as one', JSON.stringify(mine));
mine = byReq(lines, 'evil-path');
t.check(mine[0]?.path?.startsWith('/v1/hooks/evil\n{"ts":"0"') && !lines.some((l) => l.msg === 'forged'),
  'the hostile path stays inside its field', JSON.stringify(mine));

// ---- logfmt, after SIGHUP ----
writeConfig('logfmt', 'info');
let mark = d.log().length;
d.proc.kill('SIGHUP');
await linesSince(mark, (l) => l, (ls) => ls.some((l) => l.includes('configuration reloaded')));
mark = d.log().indexOf('\n', d.log().indexOf('configuration reloaded', mark)) + 1;
t.check(mark > 0 && /^ts=\S+ level=info msg="configuration reloaded"$/m.test(d.log().slice(0, mark)),
  'SIGHUP switches the format, from the reload\'s own line', d.log().slice(-400));
r = request(hookUrl, [bearer(), rid('logfmt-1')], hook('etl-7'));
t.check(r.status === 202 && r.headers['x-request-id'] === 'logfmt-1', 'logfmt: accepted');
request(hookUrl, [bearer(wrongToken), rid('logfmt-401')], hook('x'));
r = request(hookUrl, [bearer()], hook('etl-8'));
const generated2 = r.headers['x-request-id'];
request(`${d.url}/v1/hooks/evil%0Ats=0%20level=error%20msg=%22forged%22%20req=logfmt-1`, [bearer(), rid('logfmt-evil')],
  hook('x'), ['--path-as-is', '-g']);
lines = await linesSince(mark, (l) => l, (ls) => ls.some((l) => l.includes('req=logfmt-evil')));
t.check(lines.length >= 4 && lines.every((l) => /^ts=\S+ level=(error|warn|info|debug) msg="([^"\\]|\\.)*"( |$)/.test(l)),
  'every line after the reload is logfmt', lines.join('\n'));
const one = (id) => lines.filter((l) => l.includes(` req=${id} `) || l.endsWith(` req=${id}`));
t.check(one('logfmt-1').length === 1 && / level=info msg="event accepted" req=logfmt-1 type=dev\.cdevents\.build\.started\.\S+ id=\S+ source=\/jenkins seq=\d+ /.test(one('logfmt-1')[0]),
  'logfmt: the accepted line carries req= and its fields', one('logfmt-1').join('\n'));
t.check(one('logfmt-401').length === 1 && one('logfmt-401')[0].includes(' level=warn msg="request refused" req=logfmt-401 status=401 ') &&
  one('logfmt-401')[0].includes('detail="unknown token"'), 'logfmt: the refusal carries req= and quotes its reason', one('logfmt-401').join('\n'));
t.check(one(generated2).length === 1, 'logfmt: a generated id is on its line');
t.check(one('logfmt-evil').length === 1 && one('logfmt-evil')[0].includes('path="/v1/hooks/evil\\nts=0 level=error msg=\\"forged\\" req=logfmt-1"') &&
  one('logfmt-1').length === 1, 'logfmt: a hostile path is escaped in one quoted value', one('logfmt-evil').join('\n'));

// ---- log_level warn hides info; the audit change makes the reload's
// warning visible, which says the new level is applied ----
writeConfig('logfmt', 'warn', 999);
mark = d.log().length;
d.proc.kill('SIGHUP');
// The reload runs in one callback of the daemon's loop: once its warning
// is logged, the request below is handled at the new level.
lines = await linesSince(mark, (l) => l, (ls) => ls.some((l) => l.includes('audit settings changed')));
mark = d.log().length;
t.check(request(hookUrl, [bearer(), rid('hidden-1')], hook('etl-9')).status === 202, 'warn: accepted');
request(hookUrl, [bearer(wrongToken), rid('shown-1')], hook('x'));
lines = await linesSince(mark, (l) => l, (ls) => ls.some((l) => l.includes('req=shown-1')));
t.check(lines.some((l) => l.includes('req=shown-1') && l.includes('level=warn')), 'log_level warn: a refused token is logged', lines.join('\n'));
t.check(!d.log().slice(mark).includes('hidden-1') && !lines.some((l) => l.includes('level=info')),
  'log_level warn: info lines are not', lines.join('\n'));

// ---- debug: a line per answered request ----
writeConfig('json', 'debug', 999);
mark = d.log().length;
d.proc.kill('SIGHUP');
await linesSince(mark, (l) => l, (ls) => ls.some((l) => l.includes('configuration reloaded')));
r = request(`${d.url}/healthz`, [rid('debug-1')]);
t.check(r.status === 200 && r.headers['x-request-id'] === 'debug-1', 'health checks get an id too');
lines = await linesSince(mark, asJson, (ls) => byReq(ls, 'debug-1').length > 0);
mine = byReq(lines, 'debug-1');
t.check(mine.length === 1 && mine[0].level === 'debug' && mine[0].msg === 'request answered' && mine[0].status === '200' &&
  mine[0].path === '/healthz' && /^\d+\.\d{3}$/.test(mine[0].ms ?? ''), 'log_level debug: a line per answered request', JSON.stringify(mine));

t.check(await d.stop() === 0, 'exits 0 on SIGTERM', d.log().slice(-300));

// ---- no secret, in either format ----
const log = d.log();
const secrets = {
  'the bearer token': token, 'the Authorization value': `Bearer ${token}`, 'a wrong token': wrongToken,
  'Basic credentials': basic, 'the GitHub secret': githubSecret, 'the Standard Webhooks secret': whText,
  'its key (base64)': whKey.toString('base64'), 'its key (hex)': whKey.toString('hex'),
  'the audit HMAC key (hex)': auditKey.toString('hex'), 'the audit HMAC key (base64)': auditKey.toString('base64'),
  'the sink token': sinkToken, 'the sink secret': sinkKey.toString('base64'), 'the sink header value': sinkApiKey,
};
sent.forEach((s, i) => { secrets[`signature ${i}`] = s.replace(/^(sha256=|v1,)/, ''); });
for (const [what, value] of Object.entries(secrets))
  t.check(!log.includes(value), `the log never holds ${what}`);
t.check(/level=info msg="event accepted"/.test(log) && /"msg":"event accepted"/.test(log),
  'both formats were searched');
fs.rmSync(dir, { recursive: true });
t.finish();
