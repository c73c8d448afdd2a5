// The daemon's JSON API as the pages read it: a Bearer token from this
// tab's session storage when one was given, a 401 turned into
// Unauthorized (the page then asks for a token), paging followed.
const KEY = 'cdeventsd.token';

export class Unauthorized extends Error {}

export function setToken(token) {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}

export function hasToken() {
  return sessionStorage.getItem(KEY) !== null;
}

export async function get(path) {
  const token = sessionStorage.getItem(KEY);
  const res = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (res.status === 401) throw new Unauthorized(path);
  const body = await res.text();
  let json = null;
  try { json = JSON.parse(body); } catch { /* a checkpoint is text */ }
  if (!res.ok) {
    const err = new Error(`${path}: ${res.status} ${json?.error ?? res.statusText}`);
    err.status = res.status;
    err.body = json;
    throw err;
  }
  return json ?? body;
}

// Every record of a query, page after page, up to @max.
export async function allEvents(path, max = 5000) {
  const sep = path.includes('?') ? '&' : '?';
  let out = [], after = null;
  do {
    const page = await get(`${path}${after === null ? '' : `${sep}after=${after}`}`);
    out = out.concat(page.events);
    after = page.nextAfter;
  } while (after !== null && out.length < max);
  return out;
}

export const enc = encodeURIComponent;
