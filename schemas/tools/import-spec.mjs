#!/usr/bin/env node
// Writes the project's catalog (schemas/catalog/v<X>.json) from a CDEvents
// release's JSON Schemas. A developer runs it once per new spec release and
// reviews the diff; the daemon never reads the official schemas.
//
//   node schemas/tools/import-spec.mjs ../shared/cdevents-spec/v0.5.1 > schemas/catalog/v0.5.1.json
//
// The catalog keeps only facts the validator enforces: types, required
// fields, closed/open objects, enums, minLength, formats, patterns, array
// items and alternatives; and the release's custom event shape, from its
// custom/schema.json, when it has one. Recurring shapes get a name under "defs" so the file reads
// like the vocabulary.
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: import-spec.mjs SPEC_DIR (with schemas/ inside)');
  process.exit(2);
}
const schemaDir = path.join(dir, 'schemas');
const load = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));

// What the official patterns take, in words: the validator says it next
// to the pattern when a value does not match. A new pattern needs none,
// but reads better with one.
const looksLike = {
  '^dev\\.cdeventsx\\.[a-zA-Z0-9]+-[a-zA-Z]+\\.[a-zA-Z]+\\.[0-9]\\.[0-9]\\.[0-9]$':
    'dev.cdeventsx.<tool>-<subject>.<predicate>.<major>.<minor>.<patch>, one digit each',
  '^[a-zA-Z0-9]+-[a-zA-Z]+$': '<tool>-<subject>, e.g. mytool-resource',
};

// Names for shapes that recur across the vocabulary, keyed by their
// converted form. Anything else stays inline.
const named = new Map();
const defs = {};
function nameShape(name, node) {
  named.set(JSON.stringify(node), name);
  defs[name] = node;
}

function convertRef(ref) {
  return load(path.join(schemaDir, 'links', ref.replace(/^links\//, '') + '.json'));
}

function convert(s) {
  if (s.$ref && !s.properties && !s.anyOf)
    return convert(convertRef(s.$ref));
  if (s.anyOf)
    return { anyOf: s.anyOf.map((a) => convert(a.$ref ? convertRef(a.$ref) : a)) };
  if (s.oneOf)
    return { oneOf: s.oneOf.map(convert) };
  const out = {};
  switch (s.type) {
    case 'string':
      out.type = 'string';
      if (s.minLength) out.minLength = s.minLength;
      if (s.format) out.format = s.format;
      if (s.enum) out.enum = s.enum;
      if (s.pattern) {
        out.pattern = s.pattern;
        if (looksLike[s.pattern]) out.looksLike = looksLike[s.pattern];
      }
      break;
    case 'array':
      out.type = 'array';
      if (s.items) out.items = convert(s.items);
      break;
    case 'object': {
      out.type = 'object';
      const fields = {};
      for (const [k, v] of Object.entries(s.properties || {})) fields[k] = convert(v);
      if (Object.keys(fields).length) out.fields = fields;
      if (s.required && s.required.length) out.required = s.required;
      // JSON Schema objects are open unless additionalProperties is false;
      // catalog objects are closed unless they say "open".
      if (s.additionalProperties !== false) out.open = true;
      break;
    }
    default:
      throw new Error('unsupported schema construct: ' + JSON.stringify(s));
  }
  const known = named.get(JSON.stringify(out));
  return known ? '@' + known : (out.type === 'object' && out.open && !out.fields ? 'object' : out);
}

nameShape('nonEmptyString', { type: 'string', minLength: 1 });
nameShape('uriReference', { type: 'string', minLength: 1, format: 'uri-reference' });
nameShape('uri', { type: 'string', format: 'uri' });
nameShape('dateTime', { type: 'string', format: 'date-time' });
nameShape('contextId', { type: 'object', fields: { contextId: '@nonEmptyString' }, required: ['contextId'], open: true });
nameShape('subjectRef', { type: 'object', fields: { id: '@nonEmptyString', source: '@uriReference' }, required: ['id'] });
nameShape('testRef', { type: 'object', fields: { id: '@nonEmptyString', source: { type: 'string' } }, required: ['id'] });

const files = fs.readdirSync(schemaDir).filter((f) => f.endsWith('.json')).sort();
const events = {};
let envelope = null, versionField = null, specVersion = null;

for (const f of files) {
  const s = load(path.join(schemaDir, f));
  const ctx = s.properties.context;
  const typeName = ctx.properties.type.enum[0];
  const vf = ctx.properties.specversion ? 'specversion' : 'version';
  versionField = versionField || vf;
  specVersion = specVersion || s.$id.split('/')[3];

  // The context is the same for every type but for its type enum, except
  // that some types leave context.source without a format: those get a
  // second named context shape.
  const c = structuredClone(ctx);
  c.properties.type = { type: 'string', $eventType: true };
  const cc = convertContext(c);
  const ctxName = c.properties.source.format ? 'context' : 'contextPlainSource';
  if (defs[ctxName] && JSON.stringify(cc) !== JSON.stringify(defs[ctxName]))
    throw new Error(f + ': a third shape of context; name it in import-spec.mjs');
  defs[ctxName] = cc;

  const env = structuredClone(s);
  delete env.$schema; delete env.$id;
  env.properties = { ...env.properties, context: { $slot: '$context' }, subject: { $slot: '$subject' } };
  const ec = convertEnvelope(env);
  if (envelope && JSON.stringify(ec) !== JSON.stringify(envelope))
    throw new Error(f + ': envelope differs from the other types');
  envelope = ec;

  events[typeName] = { context: '@' + ctxName, subject: convert(s.properties.subject) };
}

// The validator checks an event of unknown or missing type against the
// context named "context": where every type leaves the source without a
// format (0.1.2), that shared shape is the one named so.
if (!defs.context && defs.contextPlainSource) {
  defs.context = defs.contextPlainSource;
  delete defs.contextPlainSource;
  for (const e of Object.values(events)) e.context = '@context';
}

function convertContext(c) {
  const fields = {};
  for (const [k, v] of Object.entries(c.properties))
    fields[k] = v.$eventType ? '$eventType' : convert(v);
  const out = { type: 'object', fields, required: c.required };
  if (c.additionalProperties !== false) out.open = true;
  return out;
}

function convertEnvelope(e) {
  const fields = {};
  for (const [k, v] of Object.entries(e.properties))
    fields[k] = v.$slot ? v.$slot : convert(v);
  const out = { type: 'object', fields, required: e.required };
  if (e.additionalProperties !== false) out.open = true;
  return out;
}

// Custom dev.cdeventsx.* types have no vocabulary entry: the release's
// custom/schema.json says what every one of them must look like (v0.4.1
// requires subject.type, v0.5.1 has none). A release without one (v0.3.0)
// has no custom events.
const catalog = { specVersion, versionField, defs, envelope };
const customFile = path.join(dir, 'custom', 'schema.json');
if (fs.existsSync(customFile)) {
  const s = load(customFile);
  const env = structuredClone(s);
  delete env.$schema; delete env.$id;
  env.properties = { ...env.properties, context: { $slot: '$context' }, subject: { $slot: '$subject' } };
  if (JSON.stringify(convertEnvelope(env)) !== JSON.stringify(envelope))
    throw new Error('custom/schema.json: envelope differs from the other types');
  catalog.customContext = convertContext(s.properties.context);
  catalog.customSubject = convert(s.properties.subject);
}
catalog.events = events;

// Objects and arrays that hold a "fields" map somewhere are spread over
// lines, one entry a line; everything else stays on one line.
const hasFields = (v) =>
  v !== null && typeof v === 'object' &&
  (('fields' in v && !Array.isArray(v)) || Object.values(v).some(hasFields));
function emit(v, indent) {
  const pad = '  '.repeat(indent);
  if (v !== null && typeof v === 'object' && (indent < 2 || hasFields(v))) {
    if (Array.isArray(v))
      return '[\n' + v.map((x) => pad + '  ' + emit(x, indent + 1)).join(',\n') + '\n' + pad + ']';
    const parts = Object.keys(v).map((k) => pad + '  ' + JSON.stringify(k) + ': ' + emit(v[k], indent + 1));
    return '{\n' + parts.join(',\n') + '\n' + pad + '}';
  }
  return JSON.stringify(v).replace(/":/g, '": ').replace(/,"/g, ', "').replace(/,\{/g, ', {');
}
process.stdout.write(emit(catalog, 0) + '\n');
