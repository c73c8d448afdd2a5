// The event model builds a valid event of every type: `cdevctl example`
// (cde_event_new_example: the model plus the catalog's example values) for
// each type of each catalog version, checked by ajv on the official
// schemas in ../shared.
//
//   node tests/js/model-types.mjs path/to/cdevctl
import { spawnSync } from 'node:child_process';
import { oracle, versions, olderVersions } from './oracle.mjs';

const cdevctl = process.argv[2];
let passed = 0, failed = 0;

function run(args) {
  const r = spawnSync(cdevctl, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cdevctl ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

for (const version of [...versions, ...olderVersions]) {
  const check = oracle(version);
  const spec = version.slice(1);
  const types = run(['types', '--spec', spec]).split('\n').filter(Boolean);
  for (const type of types) {
    const event = JSON.parse(run(['example', '--spec', spec, type]));
    const { valid, errors } = check(event);
    const ok = valid && event.context.type === type &&
      (event.context.specversion ?? event.context.version) === spec;
    if (ok) passed++;
    else {
      failed++;
      console.log(`FAIL ${type}: ${JSON.stringify(errors)}\n  ${JSON.stringify(event)}`);
    }
  }
  console.log(`${version}: ${types.length} types built`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
