// Shared pieces of the benchmarks: nginx as the yardstick and receiver,
// wrk as the load, RSS, percentiles. Nothing here asserts anything.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const tools = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '.tools');

export const freePort = () => new Promise((r) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); });
});

// nginx answering every request with @status and an empty JSON body, on
// each of @ports: what an HTTP server costs when it has nothing to store.
// With @statusPort, nginx's stub_status there too (requests handled so
// far, read by nginxRequests), so a benchmark can see when they arrived.
export async function startNginx(ports, status = 202, { statusPort = 0 } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-nginx-'));
  const servers = ports.map((p) => `  server { listen 127.0.0.1:${p} backlog=4096; keepalive_requests 1000000;
    location / { client_body_buffer_size 64k; return ${status} '{}'; } }`).concat(statusPort
    ? [`  server { listen 127.0.0.1:${statusPort}; location / { stub_status; } }`] : []).join('\n');
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `worker_processes 1;
daemon off; master_process off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir};
  uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
${servers}
}
`);
  const proc = spawn(path.join(tools, 'nginx'), ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')],
    { stdio: 'ignore' });
  for (const port of statusPort ? [ports[0], statusPort] : [ports[0]]) {
    for (let i = 0; i < 100; i++) {
      const up = await new Promise((r) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { stop: () => { proc.kill('SIGTERM'); } };
}

// wrk with a POST of @body; returns {rps, p50, p99} (ms).
// With @delayMs, each connection waits that long between requests (wrk's
// delay() hook): a paced load below saturation.
export async function wrk(url, body, { connections = 64, seconds = 10, threads = 2, delayMs = 0 } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-wrk-'));
  const script = path.join(dir, 'post.lua');
  fs.writeFileSync(script, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(body)}\n` +
    (delayMs ? `function delay() return ${delayMs} end\n` : ''));
  const out = await new Promise((resolve) => {
    let text = '';
    const p = spawn('wrk', [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url]);
    p.stdout.on('data', (d) => { text += d; });
    p.on('exit', () => resolve(text));
  });
  const ms = (label) => {
    const m = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return null;
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0), p50: ms('50'), p99: ms('99'), non2xx };
}

// What nginx's stub_status at @statusPort counts so far, on every server
// and the asking one included: connections accepted, requests handled.
export async function nginxCounts(statusPort) {
  const text = await (await fetch(`http://127.0.0.1:${statusPort}/`)).text();
  const m = /\n\s*(\d+)\s+\d+\s+(\d+)/.exec(text);
  return { accepts: Number(m[1]), requests: Number(m[2]) };
}

export const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

export const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

// The p-quantile of a Prometheus histogram in exposition text (upper
// bound of the bucket it falls in).
export function histogramQuantile(text, name, labels, p) {
  const re = new RegExp(`^${name}_bucket\\{${labels ? labels + ',' : ''}le="([^"]+)"\\} (\\d+)$`, 'gm');
  const buckets = [...text.matchAll(re)].map((m) => [m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (!total) return null;
  return buckets.find(([, c]) => c >= total * p)[0];
}

export const result = (name, obj) => console.log('RESULT ' + JSON.stringify({ [name]: obj }));

// CPU seconds per thread name (the daemon names its threads: cde-writer,
// cde-delivery, cde-reader; the loop thread is cdeventsd), from
// /proc/PID/task/*/stat (utime + stime, in clock ticks of 1/100 s).
export const threadCpu = (pid) => {
  const out = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = (out[name] || 0) + (Number(f[11]) + Number(f[12])) / 100;
    } catch { /* a thread that ended */ }
  }
  return out;
};

// Posts @n build.started events to the daemon @d in batches of 500
// CloudEvents, ids TAG-0 .. TAG-(n-1); throws unless each batch is 202.
export async function postBuildBatches(d, n, tag) {
  for (let i = 0; i < n; i += 500) {
    const batch = [];
    for (let k = i; k < Math.min(n, i + 500); k++) {
      batch.push({ specversion: '1.0', id: `${tag}-${k}`, source: '/bench', type: 'dev.cdevents.build.started.0.3.0', data: {
        context: { specversion: '0.5.1', id: `${tag}-${k}`, source: '/bench', type: 'dev.cdevents.build.started.0.3.0',
          timestamp: new Date().toISOString() }, subject: { id: `build-${k}`, content: {} } } });
    }
    const res = await fetch(`${d.url}/v1/events`, { method: 'POST',
      headers: { 'Content-Type': 'application/cloudevents-batch+json' }, body: JSON.stringify(batch) });
    await res.text();
    if (res.status !== 202) throw new Error(`load failed: ${res.status}`);
  }
}
