// The nats sink's credentials and TLS against real nats-servers: a
// server requiring TLS (a CA made here with openssl) and a user and
// password, one requiring a token, one in operator mode (NATS accounts:
// a .creds file with a user's JWT and NKey seed). The right secrets,
// read from files, get events into the stream; a wrong password, a wrong
// token, a user of an unknown account or a CA that did not sign the
// server's certificate deliver nothing, keep the events for a retry and
// say why in GET /v1/sinks. One sink publishes in
// structured mode, which the CloudEvents SDK reads as well.
//
//   node tests/js/integration/nats-auth.mjs path/to/cdeventsd path/to/cdevctl
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { HTTP } from 'cloudevents';
import { startDaemon, postJson, checker, waitForSinks, freePort } from '../daemon.mjs';
import { oracle } from '../oracle.mjs';
import { credsAuthenticator } from 'nats';
import { startNats, readStream, withStream, operatorMode } from '../nats-server.mjs';

const t = checker();
const [bin] = process.argv.slice(2, 3);
const ajv = oracle('v0.5.1');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-nats-auth-'));
const at = (f) => path.join(dir, f);
const secret = (name, text) => { fs.writeFileSync(at(name), text, { mode: 0o600 }); return at(name); };

// Two CAs: one signs the server's certificate, the other nothing here.
const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
for (const ca of ['ca', 'other-ca']) {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', at(`${ca}.key`),
    '-out', at(`${ca}.pem`), '-days', '2', '-subj', `/CN=${ca}`);
}
openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', at('server.key'),
  '-out', at('server.csr'), '-subj', '/CN=127.0.0.1');
fs.writeFileSync(at('ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
openssl('x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial',
  '-out', at('server.pem'), '-days', '2', '-extfile', at('ext'));

const tlsServer = await startNats(dir, await freePort(), { scheme: 'tls', conf:
  `tls { cert_file: "${at('server.pem')}", key_file: "${at('server.key')}" }\n` +
  'authorization { user: cde, password: "pw-right" }' });
const tokenServer = await startNats(dir, await freePort(), { conf: 'authorization { token: "token-right" }' });
const accounts = operatorMode();
const credsServer = await startNats(dir, await freePort(), { conf: accounts.conf });
const a = await withStream(tlsServer.url, 'SECURE', ['secure.>'],
  { tls: { caFile: at('ca.pem') }, user: 'cde', pass: 'pw-right' });
const b = await withStream(tokenServer.url, 'TOKENS', ['tokens.>'], { token: 'token-right' });
const c = await withStream(credsServer.url, 'ACCOUNTS', ['accounts.>'],
  { authenticator: credsAuthenticator(new TextEncoder().encode(accounts.creds)) });

const sink = (name, url, subject, keys) => `  - name: ${name}\n    type: nats\n    url: ${url}\n` +
  `    subject: "${subject}"\n    timeout: 1s\n    max_backoff: 1s\n` + keys.map((k) => `    ${k}\n`).join('');
const cfg = at('cdeventsd.yaml');
fs.writeFileSync(cfg, 'sinks:\n' +
  sink('secure', tlsServer.url, 'secure.{predicate}', [`ca_file: ${at('ca.pem')}`,
    `user_file: ${secret('user', 'cde\n')}`, `password_file: ${secret('pw', 'pw-right\n')}`, 'mode: structured']) +
  sink('wrong-password', tlsServer.url, 'secure.wrong', [`ca_file: ${at('ca.pem')}`,
    `user_file: ${at('user')}`, `password_file: ${secret('pw-bad', 'pw-wrong\n')}`]) +
  sink('wrong-ca', tlsServer.url, 'secure.ca', [`ca_file: ${at('other-ca.pem')}`,
    `user_file: ${at('user')}`, `password_file: ${at('pw')}`]) +
  sink('token', tokenServer.url, 'tokens.{subject-type}', [`token_file: ${secret('token', 'token-right\n')}`]) +
  sink('wrong-token', tokenServer.url, 'tokens.wrong', [`token_file: ${secret('token-bad', 'token-wrong\n')}`]) +
  sink('creds', credsServer.url, 'accounts.{predicate}', [`creds_file: ${secret('user.creds', accounts.creds)}`]) +
  sink('wrong-creds', credsServer.url, 'accounts.wrong',
    [`creds_file: ${secret('stranger.creds', accounts.strangerCreds)}`]) +
  'routes:\n  - sinks: [secure, wrong-password, wrong-ca, token, wrong-token, creds, wrong-creds]\n');
// A .creds file others may read is refused at start, as every secret file.
const loose = at('loose.yaml');
fs.writeFileSync(at('loose.creds'), accounts.creds, { mode: 0o644 });
fs.chmodSync(at('loose.creds'), 0o644);
fs.writeFileSync(loose, `sinks:\n${sink('loose', credsServer.url, 'accounts.loose', [`creds_file: ${at('loose.creds')}`])}` +
  'routes:\n  - sinks: [loose]\n');
let refusal = '';
try { await startDaemon(bin, ['-c', loose]); } catch (e) { refusal = String(e); }
t.check(/creds_file .*loose\.creds: group or others can read or write it/.test(refusal),
  'a .creds file others may read is refused at start, naming it', refusal.slice(-300));

const d = await startDaemon(bin, ['-c', cfg]);
const ids = [];
for (let i = 0; i < 3; i++) {
  const r = postJson(`${d.url}/v1/hooks/build`, { phase: 'finished', subject: `etl-${i}` });
  t.check(r.status === 202, 'hook accepted', JSON.stringify(r.json));
  ids.push(r.json?.id);
}

const refused = (s) => s.delivered === 0 && s.deadLetters === 0 && s.lastError;
const st = await waitForSinks(d, {
  secure: (s) => s.delivered === 3, token: (s) => s.delivered === 3, creds: (s) => s.delivered === 3,
  'wrong-password': refused, 'wrong-ca': refused, 'wrong-token': refused, 'wrong-creds': refused,
}, 20000);
const sinkNamed = (name) => st?.sinks?.find((s) => s.name === name);
t.check(sinkNamed('secure')?.delivered === 3, 'TLS with ca_file, user_file and password_file: delivered',
  JSON.stringify(sinkNamed('secure')) + d.log().slice(-600));
t.check(sinkNamed('token')?.delivered === 3, 'token_file: delivered', JSON.stringify(sinkNamed('token')));
t.check(sinkNamed('creds')?.delivered === 3, 'creds_file (a NATS account user\'s JWT and NKey seed): delivered',
  JSON.stringify(sinkNamed('creds')));
const reasons = {
  'wrong-password': /^not connected to NATS: Authorization Violation/,
  'wrong-ca': /^not connected to NATS: SSL handshake error: .*unable to get local issuer certificate/,
  'wrong-token': /^not connected to NATS: Authorization Violation/,
  'wrong-creds': /^not connected to NATS: Authorization Violation/,
};
for (const [name, reason] of Object.entries(reasons)) {
  const s = sinkNamed(name);
  t.check(s?.delivered === 0 && s?.deadLetters === 0 && s?.lagEvents === 3 && reason.test(s?.lastError),
    `${name}: nothing delivered, the events kept for a retry, the server's reason named`, JSON.stringify(s));
}

const secure = await readStream(a.jsm, 'SECURE');
t.check(secure.length === 3 && secure.every((m) => m.subject === 'secure.finished'),
  'the secure stream holds the three events', JSON.stringify(secure.map((m) => m.subject)));
for (const m of secure) {
  let ce = null, err = '';
  try { ce = HTTP.toEvent({ headers: m.headers, body: m.body }); ce.validate(); } catch (e) { err = String(e); }
  const data = typeof ce?.data === 'string' ? JSON.parse(ce.data) : ce?.data;
  t.check(m.headers['content-type'] === 'application/cloudevents+json' && !m.headers['ce-id'] &&
    m.headers['nats-msg-id'] === ce?.id, 'structured mode: the CloudEvent is the payload, Nats-Msg-Id its id',
  JSON.stringify(m.headers));
  t.check(ce && !err && ajv(data).valid && ids.includes(ce.id) && ce.id === data.context.id,
    'a valid structured CloudEvent whose data the official schema accepts', err || m.body.slice(0, 200));
}
const tokens = await readStream(b.jsm, 'TOKENS');
t.check(tokens.length === 3 && tokens.every((m) => m.subject === 'tokens.build' && ids.includes(m.headers['ce-id'])),
  'the token stream holds the three events, binary mode', JSON.stringify(tokens.map((m) => m.subject)));
const accountMsgs = await readStream(c.jsm, 'ACCOUNTS');
t.check(accountMsgs.length === 3 && accountMsgs.every((m) => ids.includes(m.headers['nats-msg-id'])),
  'the account\'s stream holds the three events', JSON.stringify(accountMsgs.map((m) => m.subject)));

const code = await d.stop();
t.check(code === 0, 'the daemon exits 0 with refused sinks still retrying', `${code}: ${d.log().slice(-300)}`);
const passwordsInLog = ['pw-right', 'pw-wrong', 'token-right', 'token-wrong'].filter((p) => d.log().includes(p));
t.check(passwordsInLog.length === 0, 'no secret appears in the daemon\'s log', passwordsInLog.join());
await a.nc.close();
await b.nc.close();
await c.nc.close();
await tlsServer.stop();
await tokenServer.stop();
await credsServer.stop();
fs.rmSync(dir, { recursive: true, force: true });
t.finish();
