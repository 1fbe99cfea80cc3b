// The wall screen's bundle store (decision 027): bundles in Cache Storage keyed by their SHA-256,
// so a reload or a cut network keeps them, and their download from the manifest's URLs, checked
// against length and SHA-256 with WebCrypto. Used by screen-client.js.

const CACHE = 'devicehub-screen-bundles';

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');

const bundleRequest = (sha256) => new Request(`/screens/bundles/${sha256}`);

export async function storedBundle(sha256) {
  const cache = await caches.open(CACHE);
  const response = await cache.match(bundleRequest(sha256));
  if (!response) return undefined;
  const bytes = await response.arrayBuffer();
  // Checked again: a store that lost or changed bytes is as bad as a mirror that did.
  return hex(await crypto.subtle.digest('SHA-256', bytes)) === sha256 ? bytes : undefined;
}

export async function storeBundle(sha256, bytes) {
  const cache = await caches.open(CACHE);
  await cache.put(bundleRequest(sha256), new Response(bytes, { headers: { 'content-type': 'text/html' } }));
}

/** Keeps the running and the previous bundle; deletes the rest. */
export async function pruneBundles(keep) {
  const cache = await caches.open(CACHE);
  for (const request of await cache.keys()) {
    if (!keep.some((sha) => request.url.endsWith(`/${sha}`))) await cache.delete(request);
  }
}

/** Fetches the bundle from its URLs in order: the first whose bytes match length and SHA-256. */
export async function download(bundle) {
  let reason = 'DOWNLOAD_FAILED: no URL';
  for (const url of bundle.urls) {
    try {
      const response = await fetch(url, { credentials: 'omit' });
      if (!response.ok) {
        reason = `DOWNLOAD_FAILED: ${url} answered ${response.status}`;
        continue;
      }
      const bytes = await response.arrayBuffer();
      const digest = hex(await crypto.subtle.digest('SHA-256', bytes));
      if (bytes.byteLength !== bundle.length || digest !== bundle.sha256) {
        reason = `HASH_MISMATCH: ${url} sent ${bytes.byteLength} bytes with SHA-256 ${digest}`;
        continue;
      }
      return { bytes };
    } catch (error) {
      reason = `DOWNLOAD_FAILED: ${url}: ${error?.message ?? error}`;
    }
  }
  return { reason };
}
