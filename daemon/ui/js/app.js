// The pages' router: the part of the URL after '#' names a page
// (#/releases, #/release/<chain>, #/artifact/<id>, #/sinks, #/dora); each
// page module's render() reads the API and returns what to show. A 401
// opens the token dialog; the page is drawn again once one is given.
import { Unauthorized, hasToken, setToken } from './api.js';
import { h } from './dom.js';
import * as releases from './releases.js';
import * as release from './release.js';
import * as artifact from './artifact.js';
import * as sinks from './sinks.js';
import * as dora from './dora.js';

const routes = [
  [/^#\/release\/(.+)$/, (m) => release.render(decodeURIComponent(m[1]))],
  [/^#\/artifact\/(.+)$/, (m) => artifact.render(decodeURIComponent(m[1]))],
  [/^#\/sinks$/, () => sinks.render()],
  [/^#\/dora(?:\?(.*))?$/, (m) => dora.render(new URLSearchParams(m[1] ?? ''))],
  [/^#\/releases(?:\?(.*))?$/, (m) => releases.render(new URLSearchParams(m[1] ?? ''))],
  [/^#?\/?$/, () => releases.render(new URLSearchParams())],
];

let drawn = 0;
let cleanup = null;

function askToken(reason) {
  const dialog = document.getElementById('token-dialog');
  if (reason) document.getElementById('token-reason').textContent = reason;
  document.getElementById('token-input').value = '';
  if (!dialog.open) dialog.showModal();
}

function markNav() {
  const here = location.hash.replace(/\?.*$/, '') || '#/releases';
  for (const a of document.querySelectorAll('nav a')) {
    if (here.startsWith(a.getAttribute('href'))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function show({ focus = false } = {}) {
  const n = ++drawn;
  const main = document.getElementById('main');
  if (cleanup) cleanup();
  cleanup = null;
  markNav();
  main.setAttribute('aria-busy', 'true');
  try {
    const found = routes.map(([re, fn]) => [re.exec(location.hash), fn]).find(([m]) => m);
    const view = found ? await found[1](found[0]) : { title: 'Not found', node: h('p', {}, 'No such page.') };
    if (n !== drawn) {
      view.cleanup?.();
      return;
    }
    main.replaceChildren(view.node);
    cleanup = view.cleanup ?? null;
    document.title = `${view.title} · cdeventsd`;
    if (focus) main.querySelector('h1')?.focus();
  } catch (e) {
    if (n !== drawn) return;
    if (e instanceof Unauthorized) {
      main.replaceChildren(h('p', { class: 'status' }, 'Waiting for a token…'));
      askToken(hasToken() ? 'That token was refused (401): give another one.' : null);
    } else if (e.status === 403) {
      main.replaceChildren(h('p', { class: 'error', role: 'alert' }, 'This token may not read the log (403).'));
      askToken('This token lacks the query scope (403): give another one.');
    } else {
      main.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message));
    }
  } finally {
    if (n === drawn) main.removeAttribute('aria-busy');
  }
}

// Pages call this to draw themselves again (a filter changed, live refresh).
export function redraw() {
  return show();
}

document.getElementById('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  setToken(document.getElementById('token-input').value.trim());
  document.getElementById('token-dialog').close();
  show();
});
window.addEventListener('hashchange', () => show({ focus: true }));
show();
