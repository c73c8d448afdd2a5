// What a principal may claim and what a careless configuration is told:
// a principal restricted to sources cannot post events under another
// one's; token and secret files others can read, short tokens, two
// principals with one token and the scope "admin" are refused at start, at
// --check-config and at reload.
//
//   node tests/js/integration/principals.mjs path/to/cdeventsd path/to/cdevctl
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startDaemon, curl, checker, waitForLog } from '../daemon.mjs';

const t = checker();
const bin = process.argv[2];
const cdevctl = process.argv[3];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cde-principals-'));
const state = path.join(dir, 'state');
const file = (name, text, mode = 0o600) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  fs.chmodSync(p, mode);
  return p;
};
const ciToken = crypto.randomBytes(24).toString('hex');
const githubSecret = 'gh-' + crypto.randomBytes(16).toString('hex');
const good = `principals:
  - name: ci
    scopes: [emit, query]
    token_file: ${file('ci.token', ciToken + '\n')}
    sources: [/ci, /jenkins/]
  - name: github
    github_secret_file: ${file('github.secret', githubSecret + '\n')}
    sources: [/github]
`;
const cfg = file('cdeventsd.yaml', good);
const d = await startDaemon(bin, ['-c', cfg, '--state-dir', state]);
const bearer = `Authorization: Bearer ${ciToken}`;
const postAs = (headers, url, body, type = 'application/json') =>
  curl(['-X', 'POST', '-H', `Content-Type: ${type}`, ...headers.flatMap((h) => ['-H', h]),
    '--data-binary', body, `${d.url}${url}`]);

// Source squatting: ci claims GitHub's (source, id) ahead of the real hook.
let r = postAs([bearer], '/v1/hooks/build?dry_run=1', JSON.stringify({ phase: 'started', subject: 'b' }));
const event = r.json?.events?.[0];
t.check(r.status === 200 && event, 'a dry run builds an event to post', r.body);
const as = (source, id) => ({ ...event, context: { ...event.context, source, id } });
r = postAs([bearer], '/v1/events', JSON.stringify(as('/github', 'release-77')));
t.check(r.status === 403 && r.json?.details?.[0]?.pointer === '/context/source' &&
  r.json.details[0].reason.includes('/github'),
  'an event whose source is outside the principal\'s sources: 403 naming /context/source', r.body);
r = postAs([bearer], '/v1/events', JSON.stringify(as('/githubber', 'x-1')));
t.check(r.status === 403, 'a source that only starts with the same letters is outside', r.body);
r = postAs([bearer], '/v1/events', JSON.stringify(as('/ci/../github', 'x-2')));
t.check(r.status === 403, 'a source that climbs out with ".." is outside', r.body);
r = postAs([bearer], '/v1/events?dry_run=1', JSON.stringify(as('/github', 'x-3')));
t.check(r.status === 403, 'a dry run is refused the same way', r.body);
r = postAs([bearer], '/v1/events', JSON.stringify(as('/ci', 'ci-1')));
t.check(r.status === 202, 'a source equal to one of the principal\'s is accepted', r.body);
r = postAs([bearer], '/v1/events', JSON.stringify(as('/jenkins/job/etl', 'ci-2')));
t.check(r.status === 202, 'a source under one of them (at a "/") is accepted', r.body);
const ce = (e) => ({ specversion: '1.0', id: e.context.id, source: e.context.source, type: e.context.type, data: e });
r = postAs([bearer], '/v1/events', JSON.stringify([ce(as('/ci/a', 'b-1')), ce(as('/github', 'b-2'))]),
  'application/cloudevents-batch+json');
t.check(r.status === 403 && r.json?.details?.[0]?.pointer === '/1/data/context/source',
  'a batch with one foreign source is refused as a whole, naming the member', r.body);
r = postAs([bearer], '/v1/hooks/build', JSON.stringify({ phase: 'started', subject: 'b', source: '/github', id: 'release-77' }));
t.check(r.status === 403 && r.json?.details?.[0]?.pointer === '/source', 'a hook with a foreign source: 403 naming /source', r.body);
r = postAs([bearer], '/v1/hooks/build', JSON.stringify({ phase: 'started', subject: 'b' }));
t.check(r.status === 202 && r.json?.seq, 'a hook with the default source (/ci, from the principal\'s name) is accepted', r.body);
const ghBody = JSON.stringify({ phase: 'started', subject: 'b', id: 'release-77' });
r = postAs([`X-Hub-Signature-256: sha256=${crypto.createHmac('sha256', githubSecret).update(ghBody).digest('hex')}`],
  '/v1/hooks/build', ghBody);
t.check(r.status === 202 && r.json?.duplicate !== true, 'the real GitHub hook (source /github) is stored, not taken for a duplicate', r.body);

// A reload that would load a careless file is refused; the running
// principals stay.
let mark = d.log().length;
file('loose.token', crypto.randomBytes(24).toString('hex'), 0o644);
fs.writeFileSync(cfg, `principals:\n  - name: ci\n    token_file: ${path.join(dir, 'loose.token')}\n`);
d.proc.kill('SIGHUP');
t.check(await waitForLog(d, 'reload refused', mark) && d.log().includes('chmod 600', mark),
  'a reload to a world-readable token file is refused and says chmod 600', d.log().slice(mark));
r = postAs([bearer], '/v1/events', JSON.stringify(as('/ci', 'ci-3')));
t.check(r.status === 202, 'the running principals stay', r.body);
t.check(await d.stop() === 0, 'exits 0 on SIGTERM', d.log().slice(-300));

// Careless configurations, each refused at start and by --check-config
// with the principal, the file and what to do.
const careless = (name, yaml, env = {}) => {
  const p = file(`${name}.yaml`, yaml);
  const started = spawnSync(bin, ['-c', p, '--listen', '127.0.0.1:0', '--state-dir', state],
    { encoding: 'utf8', timeout: 5000, env: { ...process.env, ...env } });
  const checked = spawnSync(bin, ['--check-config', p], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: started.status, checked: checked.status, stderr: started.stderr, checkErr: checked.stderr };
};
const token = () => crypto.randomBytes(24).toString('hex');
const refused = (what, res, ...texts) =>
  t.check(res.status === 1 && res.checked === 1 && texts.every((x) => res.stderr.includes(x) && res.checkErr.includes(x)),
    what, `${res.status}/${res.checked}: ${res.stderr}`);
let p = file('world.token', token(), 0o644);
refused('a token file others can read: refused, naming principal, file and chmod 600',
  careless('world', `principals:\n  - name: ci\n    token_file: ${p}\n`), `principal ci: token_file ${p}`, 'chmod 600');
p = file('group-w.token', token(), 0o620);
refused('a token file its group can write: refused', careless('groupw', `principals:\n  - name: ci\n    token_file: ${p}\n`),
  `token_file ${p}`, 'chmod 600');
p = file('gh-world.secret', 'secret-' + token(), 0o604);
refused('a GitHub secret file others can read: refused', careless('ghworld', `principals:\n  - name: gh\n    github_secret_file: ${p}\n`),
  `principal gh: github_secret_file ${p}`, 'chmod 600');
p = file('wh-world.whsec', 'whsec_' + crypto.randomBytes(32).toString('base64'), 0o644);
refused('a Standard Webhooks secret file others can read: refused', careless('whworld', `principals:\n  - name: wh\n    webhook_secret_files: [${p}]\n`),
  `principal wh: webhook secret ${p}`, 'chmod 600');
p = file('short.token', 'x'.repeat(31) + '\n');
refused('a token of 31 characters: refused', careless('short', `principals:\n  - name: ci\n    token_file: ${p}\n`),
  `principal ci: token_file ${p}`, 'at least 32 characters');
refused('a token_env of 2 characters: refused', careless('shortenv', `principals:\n  - name: ci\n    token_env: CDE_TEST_SHORT\n`,
  { CDE_TEST_SHORT: 'ab' }), 'principal ci: token_env CDE_TEST_SHORT', 'at least 32 characters');
const same = token();
refused('two principals with the same token: refused, naming both', careless('same', `principals:
  - name: ci
    token_file: ${file('same-1.token', same + '\n')}
  - name: deploy
    token_env: CDE_TEST_SAME
`, { CDE_TEST_SAME: same }), 'principals ci and deploy have the same token');
refused('the scope "admin": refused (it grants nothing)', careless('admin', `principals:
  - name: ops
    scopes: [query, admin]
    token_file: ${file('ops.token', token())}
`), '/principals/0/scopes/1', 'admin');
refused('sources must be URI references', careless('badsrc', `principals:
  - name: ci
    token_file: ${file('src.token', token())}
    sources: ["has space"]
`), '/principals/0/sources/0');

// cdevctl reads its --token-file the same way.
const q = spawnSync(cdevctl, ['audit', 'query', '--url', 'http://127.0.0.1:9/', '--token-file', path.join(dir, 'loose.token')],
  { encoding: 'utf8' });
t.check(q.status === 2 && q.stderr.includes('chmod 600'), 'cdevctl refuses a --token-file others can read', q.stderr);
fs.rmSync(dir, { recursive: true });
t.finish();
