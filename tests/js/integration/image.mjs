// The container image of `make image` (scripts/image), as a runtime would
// take it. The archive is an OCI image layout whose every descriptor names
// a blob of that digest and size, which `docker load` finds through
// manifest.json too; its config runs the daemon as a user that is not
// root, and the Kubernetes examples name it. Its root filesystem, unpacked
// by umoci the way a runtime applies the layers, runs the daemon with
// chroot(8) from the image's entrypoint, command, user and working
// directory; where podman is installed, `podman load` takes the archive
// under the name the manifests use and `podman run` starts it too. Each
// daemon runs as uid 10001, becomes ready, refuses a hook without a token,
// stores one with the token its configuration reads from a mounted secret,
// its audit log verifies intact with the image's own cdevctl, and SIGTERM
// ends it with exit 0. Needs root, like make image.
//
//   node tests/js/integration/image.mjs build-image/cdeventsd-image.tar
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { curl, postJson, checker, waitFor, freePort } from '../daemon.mjs';

const t = checker();
const archive = process.argv[2];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-image-'));
const run = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' });
const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const blobPath = (digest) => path.join(dir, 'layout', 'blobs', ...digest.split(':'));
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

// --- 1. the archive: an OCI layout whose descriptors match their blobs ----
fs.mkdirSync(path.join(dir, 'layout'));
const x = run('tar', ['-xf', archive, '-C', path.join(dir, 'layout')]);
t.check(x.status === 0, 'the archive is a tar', x.stderr);
const layoutFile = readJson(path.join(dir, 'layout', 'oci-layout'));
t.check(layoutFile.imageLayoutVersion === '1.0.0', 'oci-layout says version 1.0.0');
const index = readJson(path.join(dir, 'layout', 'index.json'));
t.check(index.schemaVersion === 2 && index.manifests?.length === 1, 'index.json lists one manifest');
const matches = (desc) => {
  const f = blobPath(desc.digest);
  return fs.existsSync(f) && `sha256:${sha256(f)}` === desc.digest && fs.statSync(f).size === desc.size;
};
const top = index.manifests[0];
t.check(matches(top), 'the manifest blob has the digest and size index.json gives');
const manifest = readJson(blobPath(top.digest));
t.check(matches(manifest.config), 'the config blob has the digest and size the manifest gives');
t.check(manifest.layers.length >= 1 && manifest.layers.every(matches),
  'every layer blob has the digest and size the manifest gives', `${manifest.layers.length} layers`);
const config = readJson(blobPath(manifest.config.digest));
t.check(config.rootfs?.diff_ids?.length === manifest.layers.length, 'the config has a diff_id per layer');
const version = config.config?.Labels?.['org.opencontainers.image.version'];
t.check(/^\d+\.\d+\.\d+/.test(version ?? ''), 'the image is labelled with its version', version);
const name = `docker.io/library/cdeventsd:${version}`;
t.check(top.annotations?.['io.containerd.image.name'] === name &&
  top.annotations?.['org.opencontainers.image.ref.name'] === version,
  'index.json names the image cdeventsd:VERSION (containerd) and tags it VERSION (OCI)', JSON.stringify(top.annotations));
// docker load (before 25, and with the classic store) reads manifest.json.
const dockerManifest = readJson(path.join(dir, 'layout', 'manifest.json'));
t.check(dockerManifest.length === 1 &&
  dockerManifest[0].Config === `blobs/${manifest.config.digest.replace(':', '/')}` &&
  JSON.stringify(dockerManifest[0].Layers) === JSON.stringify(manifest.layers.map((l) => `blobs/${l.digest.replace(':', '/')}`)) &&
  JSON.stringify(dockerManifest[0].RepoTags) === JSON.stringify([`cdeventsd:${version}`]),
  'manifest.json gives docker load the same config, layers and name', JSON.stringify(dockerManifest));

// --- 2. the image config ---------------------------------------------------
const c = config.config ?? {};
const [uid, gid] = (c.User ?? '').split(':').map(Number);
t.check(/^\d+:\d+$/.test(c.User ?? '') && uid !== 0 && gid !== 0,
  'the image runs as a numeric user and group that are not root (runAsNonRoot can check it)', c.User);
t.check('9720/tcp' in (c.ExposedPorts ?? {}), 'the image exposes 9720/tcp');
t.check(c.Entrypoint?.[0] === '/usr/sbin/cdeventsd' && c.Cmd?.[0] === '-c', 'entrypoint cdeventsd, command -c FILE',
  JSON.stringify([c.Entrypoint, c.Cmd]));
t.check(c.WorkingDir === '/var/lib/cdeventsd' && '/var/lib/cdeventsd' in (c.Volumes ?? {}),
  'the state directory is the working directory and a volume');

// The Kubernetes examples run this image as its user (read as text: this
// test needs nothing from npm).
const srcDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const deployment = fs.readFileSync(path.join(srcDir, 'config/examples/kubernetes/deployment.yaml'), 'utf8');
t.check(/^\s*image: (\S+)/m.exec(deployment)?.[1] === `cdeventsd:${version}`,
  'config/examples/kubernetes/deployment.yaml names the image cdeventsd:VERSION', /^\s*image: (\S+)/m.exec(deployment)?.[1]);
t.check(Number(/runAsUser: (\d+)/.exec(deployment)?.[1]) === uid && Number(/fsGroup: (\d+)/.exec(deployment)?.[1]) === gid,
  'the Deployment runs as the image\'s user, with its group as fsGroup');

// --- 3. the root filesystem, as a runtime unpacks it -----------------------
const bundle = path.join(dir, 'bundle');
const u = run('umoci', ['unpack', '--image', `${path.join(dir, 'layout')}:${version}`, bundle]);
t.check(u.status === 0, 'umoci unpacks the image', u.stderr);
const rootfs = path.join(bundle, 'rootfs');
const inRoot = (p) => path.join(rootfs, p);
const entry = fs.statSync(inRoot(c.Entrypoint?.[0] ?? '/nonexistent'), { throwIfNoEntry: false });
t.check(entry?.isFile() && (entry.mode & 0o111) !== 0, 'the entrypoint is an executable of the root filesystem');
t.check(fs.existsSync(inRoot(c.Cmd?.[1] ?? '/nonexistent')), 'the configuration the command names is in the image');
const passwd = fs.readFileSync(inRoot('/etc/passwd'), 'utf8').split('\n').map((l) => l.split(':'));
const user = passwd.find((f) => Number(f[2]) === uid);
t.check(user?.[0] === 'cdeventsd' && Number(user?.[3]) === gid && user?.[6] === '/usr/sbin/nologin',
  'the user is cdeventsd in /etc/passwd, without a shell', user?.join(':'));
const state = fs.statSync(inRoot('/var/lib/cdeventsd'));
t.check(state.uid === uid && state.gid === gid && (state.mode & 0o007) === 0,
  'the state directory belongs to the user, and not to others', `${state.uid}:${state.gid} ${(state.mode & 0o777).toString(8)}`);
t.check(!fs.existsSync(inRoot('/usr/bin/apt-get')), 'no apt in the image (nothing is installed in a container)');
t.check(fs.existsSync(inRoot('/etc/ssl/certs/ca-certificates.crt')), 'CA certificates for https sinks');
const catalog = fs.readdirSync(inRoot('/usr/share/cdeventsd/catalog'));
t.check(catalog.includes('v0.5.1.json'), 'the event catalog is where the daemon looks by default', catalog.join(' '));
t.check(fs.existsSync(inRoot('/usr/share/cdeventsd/ui/index.html')) && fs.existsSync(inRoot('/usr/share/cdeventsd/ui/js/app.js')),
  'the web interface\'s files are where the daemon looks by default');

// --- 4. the daemon from the image ------------------------------------------
const cfgText = fs.readFileSync(inRoot(c.Cmd[1]), 'utf8');
const tokenFile = /token_file:\s*(\S+)/.exec(cfgText)?.[1] ?? '';
t.check(tokenFile.startsWith('/run/secrets/'), 'the configuration reads its token from a mounted secret', tokenFile);
const token = crypto.randomBytes(32).toString('hex');
const uidOf = (pid) => {
  try { return Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]); } catch { return NaN; }
};

// One daemon of the image, however started: @d gives log() (its text so
// far), exited() (null while it runs), pid(), verify() (cdevctl audit
// verify of its log, run in the image) and stop() (SIGTERM, then the exit
// code). Checks that it serves, with authentication, and stops cleanly.
async function exercise(how, d) {
  const listening = await waitFor(() => /listening on (127\.0\.0\.1:\d+)/.exec(d.log())?.[1] ?? d.exited() !== null, 20000);
  t.check(typeof listening === 'string', `${how}: the daemon of the image starts`, d.log());
  if (typeof listening === 'string') {
    const url = `http://${listening}`;
    t.check(uidOf(d.pid()) === uid, `${how}: it runs as the image's user`, `uid ${uidOf(d.pid())}`);
    t.check(await waitFor(() => curl([`${url}/readyz`]).status === 200, 10000), `${how}: /readyz answers 200`);
    t.check(d.log().split('\n').filter(Boolean).every((l) => { try { return JSON.parse(l).msg; } catch { return false; } }),
      `${how}: the log is one JSON object per line`, d.log());
    const hook = { phase: 'started', subject: 'image-build-1', id: 'image-test-1' };
    const anon = postJson(`${url}/v1/hooks/build`, hook);
    t.check(anon.status === 401, `${how}: a hook without the token is refused (authentication is on)`, `${anon.status} ${anon.body}`);
    const r = postJson(`${url}/v1/hooks/build`, hook, ['-H', `Authorization: Bearer ${token}`]);
    t.check(r.status === 202 && r.json?.type?.startsWith('dev.cdevents.build.started.'),
      `${how}: a build hook with the token is stored: 202`, `${r.status} ${r.body}`);
    const v = d.verify();
    t.check(v.status === 0 && /intact, 1 events/.test(v.stdout), `${how}: cdevctl audit verify in the image: intact, 1 event`,
      `${v.status} ${v.stdout} ${v.stderr}`);
  }
  const code = await d.stop();
  t.check(code === 0, `${how}: SIGTERM stops it cleanly (exit 0)`, `${code}\n${d.log()}`);
}

// 4a. chroot: the unpacked root filesystem, the image's user, working
// directory, environment, entrypoint and command, only the address
// changed to a free loopback port. The secret is where `podman run
// --secret cdeventsd-token,uid=10001,mode=0400` mounts it.
fs.mkdirSync(path.dirname(inRoot(tokenFile)), { recursive: true });
fs.writeFileSync(inRoot(tokenFile), `${token}\n`, { mode: 0o400 });
fs.chownSync(inRoot(tokenFile), uid, gid);
const inImage = (argv) => ['--userspec', `${uid}:${gid}`, '--groups', '', rootfs,
  '/usr/bin/env', '-i', '-C', c.WorkingDir, ...(c.Env ?? []), ...argv];
{
  const proc = spawn('chroot', inImage([...c.Entrypoint, ...c.Cmd, '--listen', '127.0.0.1:0']),
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  let exited = null;
  proc.stderr.on('data', (b) => { log += b; });
  const gone = new Promise((resolve) => proc.on('exit', (code, sig) => resolve(exited = code ?? sig)));
  await exercise('chroot', {
    log: () => log, exited: () => exited, pid: () => proc.pid,
    verify: () => spawnSync('chroot', inImage(['/usr/bin/cdevctl', 'audit', 'verify', '--db', '/var/lib/cdeventsd/audit.db']),
      { encoding: 'utf8' }),
    stop: () => { if (exited === null) proc.kill('SIGTERM'); return gone; },
  });
}

// --- 5. podman, where it is installed ----------------------------------------
// podman load takes the archive under the name the manifests use; podman
// run starts it as the image says, with the token as a podman secret. Where
// crun cannot run containers (no CAP_SYS_RESOURCE to raise rlimits, cgroup
// v2 controllers in hybrid mode, as on the machine this was written on),
// runc with lowered limits is tried; if neither starts, only the chroot
// run above stands.
if (run('podman', ['--version']).status === 0) {
  const l = run('podman', ['load', '-i', archive]);
  t.check(l.status === 0 && l.stdout.includes(`Loaded image: ${name}`), `podman load: ${name}`, l.stdout + l.stderr);
  const i = run('podman', ['image', 'inspect', '--format', '{{.Config.User}}', `cdeventsd:${version}`]);
  t.check(i.stdout.trim() === c.User, 'podman knows it as cdeventsd:VERSION, with the image\'s user', i.stdout + i.stderr);
  const id = crypto.randomBytes(4).toString('hex');
  const secret = `cde-image-test-${id}`, ctr = `cde-image-test-${id}`;
  const tokenCopy = path.join(dir, 'token');
  fs.writeFileSync(tokenCopy, `${token}\n`, { mode: 0o600 });
  run('podman', ['secret', 'create', secret, tokenCopy]);
  const tries = [[], ['--runtime', 'runc', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024']];
  let started = null;
  for (const extra of tries) {
    run('podman', ['rm', '-f', ctr]);
    started = run('podman', ['run', '-d', '--name', ctr, '--network', 'host', ...extra,
      '--secret', `${secret},target=${tokenFile.slice('/run/secrets/'.length)},uid=${uid},mode=0400`,
      `cdeventsd:${version}`, ...c.Cmd, '--listen', `127.0.0.1:${await freePort()}`]);
    if (started.status === 0) break;
  }
  if (started.status === 0) {
    const podman = (...args) => run('podman', args);
    const state = () => podman('inspect', '--format', '{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}', ctr).stdout.trim().split(' ');
    await exercise('podman run', {
      log: () => podman('logs', ctr).stderr,
      exited: () => (state()[0] === 'running' ? null : Number(state()[1])),
      pid: () => Number(state()[2]),
      verify: () => podman('exec', ctr, 'cdevctl', 'audit', 'verify', '--db', '/var/lib/cdeventsd/audit.db'),
      stop: async () => { podman('stop', '-t', '45', ctr); return Number(state()[1]); },
    });
  } else {
    console.log(`podman cannot run containers here, only the chroot run counts:\n${started.stderr}`);
  }
  run('podman', ['rm', '-f', '-v', ctr]);
  run('podman', ['secret', 'rm', secret]);
  run('podman', ['rmi', name]);
} else {
  console.log('podman is not installed: podman load and run not tried');
}

fs.rmSync(dir, { recursive: true, force: true });
t.finish();
