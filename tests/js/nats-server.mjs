// A real nats-server (Debian's) for the nats suites: started in the
// foreground on loopback with JetStream and its own store, optionally
// from a configuration file (authorization, TLS, NATS accounts with
// JWTs made here), ready once it says it serves clients; and the
// messages of a stream read back.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createOperator, createAccount, createUser } from 'nkeys.js';
import { connect, nanos } from 'nats';
import { waitFor } from './daemon.mjs';

// Starts nats-server with JetStream in @dir (its store survives a
// restart); @conf is extra configuration text (authorization { ... },
// tls { ... }). Returns { url, port, stop() }.
export async function startNats(dir, port, { conf = '', scheme = 'nats' } = {}) {
  const file = path.join(dir, `nats-${port}.conf`);
  fs.writeFileSync(file, `listen: 127.0.0.1:${port}\njetstream { store_dir: "${path.join(dir, `js-${port}`)}" }\n${conf}\n`);
  const proc = spawn('nats-server', ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const ready = await waitFor(() => log.includes('Server is ready') || proc.exitCode !== null, 10000);
  if (!ready || proc.exitCode !== null) throw new Error(`nats-server did not start:\n${log}`);
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    log: () => log,
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve(proc.exitCode);
      proc.on('exit', (code, sig) => resolve(code ?? sig));
      proc.kill('SIGTERM');
    }),
  };
}

// All messages of @stream, in order, with their headers as a map
// (lower-case names), through a JetStreamManager.
export async function readStream(jsm, stream) {
  const info = await jsm.streams.info(stream);
  const out = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    const headers = {};
    for (const [k, v] of m.header ?? []) headers[k.toLowerCase()] = v[0];
    out.push({ subject: m.subject, headers, body: new TextDecoder().decode(m.data) });
  }
  return out;
}

// Connects to @url and makes sure the stream @name (file storage, the
// subjects @subjects, a 30-minute duplicate window) exists. Returns
// { nc, jsm } for readStream and info; the caller closes nc.
export async function withStream(url, name, subjects, options = {}) {
  const nc = await connect({ servers: url, ...options });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name, subjects, duplicate_window: nanos(30 * 60 * 1000) });
  return { nc, jsm };
}

// A JWT as NATS decentralized authentication reads it: the claims signed
// by the issuer's NKey (ed25519).
function natsJwt(claims, signer) {
  const b64u = (v) => Buffer.from(v).toString('base64url');
  const header = b64u(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }));
  const full = { iat: Math.floor(Date.now() / 1000), ...claims };
  full.jti = createHash('sha256').update(JSON.stringify(full)).digest('hex').slice(0, 52).toUpperCase();
  const body = b64u(JSON.stringify(full));
  return `${header}.${body}.${b64u(signer.sign(new TextEncoder().encode(`${header}.${body}`)))}`;
}

// The .creds file of a new user of @account (its JWT and NKey seed).
function userCreds(account) {
  const user = createUser();
  const jwt = natsJwt({ iss: account.getPublicKey(), sub: user.getPublicKey(), name: 'cdeventsd',
    nats: { type: 'user', version: 2, pub: {}, sub: {}, subs: -1, data: -1, payload: -1 } }, account);
  return `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n` +
    `-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(user.getSeed())}\n------END USER NKEY SEED------\n`;
}

// NATS accounts (operator mode): an operator, an account with JetStream
// and a system account, resolved from memory. Returns the server's
// configuration text, the .creds of a user of the account, and the
// .creds of a user of an account the server does not know.
export function operatorMode() {
  const op = createOperator(), account = createAccount(), system = createAccount();
  const unlimited = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
  const jetstream = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };
  const accountJwt = (kp, name, limits) => natsJwt({ iss: op.getPublicKey(), sub: kp.getPublicKey(), name,
    nats: { type: 'account', version: 2, limits } }, op);
  const operatorJwt = natsJwt({ iss: op.getPublicKey(), sub: op.getPublicKey(), name: 'test-operator',
    nats: { type: 'operator', version: 2, system_account: system.getPublicKey() } }, op);
  return {
    conf: `operator: ${operatorJwt}\nsystem_account: ${system.getPublicKey()}\nresolver: MEMORY\n` +
      `resolver_preload: {\n  ${account.getPublicKey()}: ${accountJwt(account, 'cdevents', { ...unlimited, ...jetstream })}\n` +
      `  ${system.getPublicKey()}: ${accountJwt(system, 'SYS', unlimited)}\n}\n`,
    creds: userCreds(account),
    strangerCreds: userCreds(createAccount()),
  };
}
