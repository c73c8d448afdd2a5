// One release: its events on a time axis (time received by the log),
// failures marked, the remedy of a killed pod and the sizing of a deploy
// shown in place, each event opening to its full record (seq, hashes,
// principal, JSON); and whether the log still vouches for all of it.
import { allEvents, enc } from './api.js';
import { h, link, seconds, shortHash, when } from './dom.js';
import { release } from './facts.js';
import { outcomeBadge, shortArtifact } from './releases.js';
import { parseVerifierKey, pinKey, pinnedKey } from './note.js';
import { verifyRecords } from './verify.js';

function sizingText(sz) {
  const e = sz.executor ?? {};
  const parts = [`${e.count ?? '?'} executors of ${e.memoryRequestMiB ?? '?'} MiB and ${e.cpuRequest ?? '?'} CPU`,
    `${sz.nodesNeeded ?? '?'} nodes needed`, sz.fits ? 'fits the cluster' : 'does not fit the cluster'];
  return `Sizing: ${parts.join(', ')}.`;
}

function place(el, pct) {
  el.style.setProperty('--at', `${pct.toFixed(2)}%`);
  return el;
}

function eventRow(f, rec, rel, startedAt) {
  const span = rel.end - rel.start || 1;
  const at = ((f.at - rel.start) / span) * 100;
  const track = h('div', { class: 'track', 'aria-hidden': 'true' });
  if (startedAt !== undefined) {
    const bar = place(h('span', { class: 'bar' }), ((startedAt - rel.start) / span) * 100);
    bar.style.setProperty('--width', `${Math.max(0.5, at - ((startedAt - rel.start) / span) * 100).toFixed(2)}%`);
    track.append(bar);
  }
  track.append(place(h('span', { class: `dot${f.failed ? ' failed' : ''}` }), at));
  const took = startedAt !== undefined ? ` · took ${seconds((f.at - startedAt) / 1000)}` : '';
  return h('li', { class: `event${f.failed ? ' failed' : ''}`, 'data-seq': f.seq },
    h('div', { class: 'row' },
      h('div', { class: 'what' },
        h('span', { class: 'type' }, `${f.kind} ${f.phase}`),
        f.outcome ? [' ', outcomeBadge(f.outcome)] : f.failed ? [' ', outcomeBadge('failure')] : '',
        f.kind === 'artifact' ? h('span', { class: 'subject', title: f.subject }, shortArtifact(f.subject))
          : h('span', { class: 'subject' }, f.subject),
        h('span', { class: 'time' }, `+${seconds((f.at - rel.start) / 1000)}${took}`)),
      track),
    f.errors && !f.remedy ? h('p', { class: 'errors' }, f.errors) : '',
    f.remedy ? h('p', { class: 'remedy' }, h('strong', {}, 'Remedy: '), f.remedy) : '',
    f.sizing ? h('p', { class: 'sizing' }, sizingText(f.sizing)) : '',
    h('details', {},
      h('summary', {}, `Record seq ${f.seq} · hash ${shortHash(rec.hash)} · by ${rec.principal}`),
      h('dl', {},
        h('dt', {}, 'seq'), h('dd', {}, String(rec.seq)),
        h('dt', {}, 'received'), h('dd', {}, rec.receivedAt),
        h('dt', {}, 'principal'), h('dd', {}, rec.principal),
        h('dt', {}, 'peer'), h('dd', {}, rec.peer ?? '—'),
        h('dt', {}, 'hash'), h('dd', { class: 'hash' }, rec.hash),
        h('dt', {}, 'previous hash'), h('dd', { class: 'hash' }, rec.prevHash)),
      h('pre', { tabindex: '0', 'aria-label': `Event ${f.seq} as JSON` }, JSON.stringify(rec.event, null, 2))));
}

function axis(rel) {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((p) =>
    place(h('span', { class: 'tick' }, `+${seconds(((rel.end - rel.start) * p) / 1000)}`), p * 100));
  return h('div', { class: 'axis', 'aria-hidden': 'true' }, h('div', {}), h('div', { class: 'ticks' }, ticks));
}

// The log's verifier key, as the reader holds it (cdevctl audit keygen
// prints it; the auditors keep it): saved in this browser, and the page
// checked again with it.
function keyForm(key) {
  const input = h('input', { id: 'verifier-key', name: 'key', size: 60, spellcheck: 'false', autocomplete: 'off',
    value: key?.text ?? '', placeholder: 'example.com/cdeventsd+1a2b3c4d+AT…', 'aria-describedby': 'verifier-key-hint' });
  const said = h('p', { id: 'verifier-key-hint', class: 'hint' }, key
    ? `Checkpoint signatures are checked with ${key.name} (kept in this browser).`
    : 'Checkpoint signatures are checked here once you give the log\'s verifier key (a public key: ' +
      'cdevctl audit keygen prints it, your auditors hold it).');
  const form = h('form', { class: 'verifier-key', 'aria-label': 'Verifier key' },
    h('label', { for: 'verifier-key' }, 'Verifier key '), input, ' ',
    h('button', { type: 'submit' }, 'Check with this key'), ' ',
    h('button', { type: 'button', onclick: () => { pinKey(null); window.dispatchEvent(new HashChangeEvent('hashchange')); } },
      'Forget'),
    said);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const parsed = await parseVerifierKey(input.value);
    if (!parsed) {
      said.textContent = 'Not a verifier key: name+keyID+base64 of 0x01 and a 32-byte Ed25519 public key, ' +
        'its key ID its own.';
      said.classList.add('bad');
      return;
    }
    pinKey(parsed.text);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });
  return form;
}

export async function render(chainId) {
  const recs = await allEvents(`/v1/chains/${enc(chainId)}`);
  const rel = release(chainId, recs);
  const bySeq = new Map(recs.map((r) => [r.seq, r]));
  const started = new Map();
  const rows = rel.events.map((f) => {
    const key = `${f.kind} ${f.subject}`;
    let from;
    if (f.phase === 'started') started.set(key, f.at);
    else if (started.has(key)) from = started.get(key);
    return eventRow(f, bySeq.get(f.seq), rel, from);
  });
  const verdict = h('p', { class: 'verdict', role: 'status' }, 'Checking the events against the log…');
  const keyText = pinnedKey();
  const key = keyText ? await parseVerifierKey(keyText) : null;
  verifyRecords(recs, key).then((v) => {
    verdict.textContent = `${v.ok ? '✓' : '✗'} ${v.text}`;
    verdict.classList.add(v.ok ? 'ok' : 'bad');
    for (const b of v.bad ?? []) {
      node.querySelector(`li[data-seq="${b.seq}"] .row`)?.after(h('p', { class: 'unverified' }, `✗ Not as logged: ${b.error}`));
    }
  }, (e) => { verdict.textContent = `Could not check: ${e.message}`; verdict.classList.add('bad'); });
  const node = h('section', {},
    h('p', {}, link('#/releases', '← Releases')),
    h('h1', { tabindex: '-1' }, `Release ${chainId}`),
    h('dl', { class: 'summary' },
      h('dt', {}, 'Pipeline'), h('dd', {}, rel.pipeline ?? '—'),
      h('dt', {}, 'Artifact'), h('dd', {}, rel.artifact
        ? link(`#/artifact/${enc(rel.artifact)}`, shortArtifact(rel.artifact), { title: rel.artifact }) : '—'),
      h('dt', {}, 'Service'), h('dd', {}, rel.service ?? '—'),
      h('dt', {}, 'Environment'), h('dd', {}, rel.environment ?? '—'),
      h('dt', {}, 'Outcome'), h('dd', {}, outcomeBadge(rel.outcome)),
      h('dt', {}, 'Started (UTC)'), h('dd', {}, when(new Date(rel.start).toISOString())),
      h('dt', {}, 'Duration'), h('dd', {}, seconds((rel.end - rel.start) / 1000)),
      h('dt', {}, 'Events'), h('dd', {}, `${rel.events.length}, ${rel.failures} failed`)),
    h('h2', {}, 'Verification'), verdict, keyForm(key),
    h('h2', {}, 'Timeline'),
    h('p', { class: 'hint' }, 'Each event at the time the log received it; a bar runs from a step\'s start to its end. ' +
      'Open an event for its full record.'),
    axis(rel),
    h('ol', { class: 'timeline', 'aria-label': `Events of ${chainId}, oldest first` }, rows));
  return { title: `Release ${chainId}`, node };
}
