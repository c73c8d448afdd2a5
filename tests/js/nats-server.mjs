// A real nats-server (Debian's) for the nats suites: started in the
// foreground on loopback with JetStream and its own store, optionally
// from a configuration file (authorization, TLS), ready once it says it
// serves clients; and the messages of a stream read back.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
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
