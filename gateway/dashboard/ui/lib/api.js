/**
 * The API client. The operator's key comes from the address (`#key=…`, then forgotten there) or
 * this browser's storage; every request and socket carries it.
 */
const storageKey = 'dhKey';

const fromHash = /key=([^&]+)/.exec(location.hash);
if (fromHash) {
  localStorage.setItem(storageKey, decodeURIComponent(fromHash[1]));
  location.hash = '#/';
}

/** The API key in use, or null before signing in. */
export const key = localStorage.getItem(storageKey);

/** Keeps a key for this browser and starts over with it. */
export function saveKey(value) {
  localStorage.setItem(storageKey, value.trim());
  location.reload();
}

/** Calls the API; resolves `{ body, res }`, rejects with the API's error message. */
export async function api(path, init = {}) {
  const res = await fetch(path, {
    ...init,
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      ...(init.headers ?? {}),
    },
  });
  const body = res.status === 204 || res.status === 304 ? null : await res.json();
  if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
  return { body, res };
}

/** Opens an authenticated WebSocket on an API path (the key travels as a subprotocol). */
export function openSocket(path) {
  return new WebSocket(`${location.origin.replace('http', 'ws')}${path}`, ['devicehub.v1', `bearer.${key}`]);
}
