// The reference validator: ajv (JSON Schema 2020-12) with ajv-formats on the
// official CDEvents schemas, read from ../shared/cdevents-spec, never from
// the project. This is what the specification's own tools/validate.js does.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export const specDir = process.env.CDE_SPEC_DIR ||
  path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../shared/cdevents-spec');

export const versions = ['v0.5.1', 'v0.4.1', 'v0.3.0'];
// Releases without conformance examples: their events are built from the
// schemas (schemaExamples below).
export const olderVersions = ['v0.2.0', 'v0.1.2'];

function schemaFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...schemaFiles(p));
    else if (e.name.endsWith('.json')) out.push(p);
  }
  return out;
}

// Returns validate(event) -> {valid, errors} for one spec version; the
// schema is chosen by context.type as a consumer would: a dev.cdeventsx.*
// type gets the release's custom/schema.json, when it has one.
export function oracle(version) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const byType = new Map();
  for (const f of schemaFiles(path.join(specDir, version, 'schemas'))) {
    const s = JSON.parse(fs.readFileSync(f, 'utf8'));
    ajv.addSchema(s);
    const t = s.properties?.context?.properties?.type?.enum?.[0];
    if (t) byType.set(t, s.$id);
  }
  const customFile = path.join(specDir, version, 'custom', 'schema.json');
  let customId = null;
  if (fs.existsSync(customFile)) {
    const s = JSON.parse(fs.readFileSync(customFile, 'utf8'));
    ajv.addSchema(s);
    customId = s.$id;
  }
  return (event) => {
    const type = event?.context?.type;
    const custom = typeof type === 'string' && type.startsWith('dev.cdeventsx.') && customId;
    const id = custom || byType.get(type);
    if (!id) return { valid: false, errors: ['unknown type'] };
    const v = ajv.getSchema(id);
    const valid = v(event);
    return { valid, errors: v.errors };
  };
}

export function conformanceExamples(version) {
  const dir = path.join(specDir, version, 'conformance');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => ({ file: path.join(dir, f), event: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) }));
}

// One event per schema of @version, built from the schema alone: every
// property present, the first enum value or alternative, and a value of
// the format a string asks for. For releases that publish no examples.
function fromSchema(s, version, key) {
  if (s.oneOf) return fromSchema(s.oneOf[0], version, key);
  if (s.enum) return s.enum[0];
  if (s.type === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = fromSchema(v, version, k);
    return out;
  }
  if (s.type === 'array') return s.items ? [fromSchema(s.items, version, key)] : [];
  if (s.type === 'boolean') return true;
  if (s.type === 'integer' || s.type === 'number') return 1;
  if (key === 'version') return version.slice(1);
  const byFormat = { 'date-time': '2023-01-01T00:00:00Z', uri: 'https://ci.example/x', 'uri-reference': '/ci/x' };
  return byFormat[s.format] ?? `${key}-1`;
}

export function schemaExamples(version) {
  const dir = path.join(specDir, version, 'schemas');
  return schemaFiles(dir).sort().map((f) => {
    const event = fromSchema(JSON.parse(fs.readFileSync(f, 'utf8')), version, '');
    delete event.customDataContentType;
    return { file: f, event };
  });
}

// The release's official custom event example, or null when the release
// has none. Upstream's v0.4.1 example says "version": "0.5.0-draft" although
// its shape is v0.4.1's (see ../shared/cdevents-spec/README.md): that slip
// is corrected here, so that the example names its own release.
export function customExample(version) {
  const file = path.join(specDir, version, 'custom', 'conformance.json');
  if (!fs.existsSync(file)) return null;
  const event = JSON.parse(fs.readFileSync(file, 'utf8'));
  if ('version' in event.context) event.context.version = version.slice(1);
  return { file, event };
}

// Runs `cdevctl validate --json` on events (one JSON Lines file) and
// returns its verdicts in order.
export function cdevctlVerdicts(cdevctl, events) {
  const tmp = fs.mkdtempSync('/tmp/cde-agree-');
  const file = path.join(tmp, 'events.jsonl');
  fs.writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const r = spawnSync(cdevctl, ['validate', '--json', '--accept-unknown-schema-uri', file], { encoding: 'utf8', maxBuffer: 1 << 30 });
  fs.rmSync(tmp, { recursive: true });
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`cdevctl exited ${r.status}: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  if (lines.length !== events.length)
    throw new Error(`cdevctl judged ${lines.length} events of ${events.length}`);
  return lines;
}
