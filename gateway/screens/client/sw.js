// The wall screen's service worker (decision 027): the loader page and its script from the
// network when it answers, else from the cache, so a screen that starts with no network at all
// (a power cut of the building) still loads its loader, which runs the stored bundle.
const CACHE = 'devicehub-screen-shell';
const SCRIPTS = new Set(['/screens/assets/screen-client.js', '/screens/assets/bundle-store.js']);

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  const shell = /^\/screens\/[A-Za-z0-9_.:-]{1,128}$/.test(url.pathname);
  if (!shell && !SCRIPTS.has(url.pathname)) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const response = await fetch(event.request);
        if (response.ok) await cache.put(url.pathname, response.clone());
        return response;
      } catch (error) {
        const kept = await cache.match(url.pathname);
        if (kept) return kept;
        throw error;
      }
    })(),
  );
});
