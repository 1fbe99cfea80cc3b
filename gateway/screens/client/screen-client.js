// The wall screen's loader (decision 027): a plain ES module, no build step. It runs the bundle
// its manifest names in a sandboxed iframe, keeps it across reloads and network cuts, moves to a
// new one only after checking its SHA-256, and goes back when the new one does not report
// healthy in time. Opened as /screens/<id>#secret=<the screen's secret> once; the secret is then
// kept in this origin's local storage and the fragment cleared (a fragment is never sent).
//
// A bundle is one HTML file (scripts and styles inline). It runs with `sandbox="allow-scripts"`
// (an opaque origin: it cannot read the secret, the cookies or the storage of this page) and
// talks to the loader by postMessage: it posts {type: 'devicehub.screen.health', healthy,
// dataFresh} every few seconds; it receives {type: 'devicehub.screen.data', screen, bundle,
// config, at}. The bundles' store and download are in bundle-store.js.

import { download, pruneBundles, storeBundle, storedBundle } from './bundle-store.js';

const id = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const key = (name) => `devicehub.screen.${id}.${name}`;
const options = new URLSearchParams(location.hash.slice(1));
if (options.has('secret')) {
  localStorage.setItem(key('secret'), options.get('secret'));
  history.replaceState(null, '', location.pathname);
}
const secret = localStorage.getItem(key('secret'));
const authorization = `Basic ${btoa(`${id}:${secret ?? ''}`)}`;
const waitSeconds = Number(options.get('wait') ?? 30);
const heartbeatMs = Number(options.get('heartbeat') ?? 10) * 1000;

const boot = crypto.randomUUID();
let seq = 0;
/** What the page shows and reports: the running bundle, and the update in progress. */
const screen = {
  current: readJson('current'),
  frame: null,
  health: { at: 0, healthy: false, dataFresh: false },
  config: readJson('config') ?? {},
  /** The update state not yet delivered to the gateway (sent again with the next report). */
  pending: undefined,
  state: 'starting',
};

function readJson(name) {
  try {
    return JSON.parse(localStorage.getItem(key(name)) ?? 'null') ?? undefined;
  } catch {
    return undefined;
  }
}
const writeJson = (name, value) => localStorage.setItem(key(name), JSON.stringify(value ?? null));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The state line; the last refusal or roll back stays on it until a bundle moves in healthy. */
function show(state, detail = '') {
  screen.state = state;
  detail ||= screen.note ?? '';
  const running = screen.current ? `${screen.current.name} ${screen.current.version}` : 'no bundle';
  const line = document.getElementById('loader');
  line.textContent = `${id} · ${running} · ${state}${detail ? ` · ${detail}` : ''}`;
  Object.assign(document.documentElement.dataset, {
    screenState: state,
    bundleVersion: screen.current?.version ?? '',
    bundleSha256: screen.current?.sha256 ?? '',
  });
}

function message(text) {
  const el = document.getElementById('message');
  el.textContent = text;
  el.hidden = screen.frame !== null;
}

// --- running a bundle ---------------------------------------------------------------------

function run(bundle, bytes) {
  const frame = document.createElement('iframe');
  frame.id = 'bundle';
  frame.setAttribute('sandbox', 'allow-scripts');
  frame.srcdoc = new TextDecoder().decode(bytes);
  frame.addEventListener('load', () => sendData());
  screen.frame?.remove();
  screen.frame = frame;
  screen.health = { at: 0, healthy: false, dataFresh: false };
  screen.current = bundle;
  document.body.append(frame);
  message('');
}

function sendData() {
  screen.frame?.contentWindow?.postMessage(
    {
      type: 'devicehub.screen.data',
      screen: id,
      bundle: screen.current ? { name: screen.current.name, version: screen.current.version } : null,
      config: screen.config,
      at: Date.now(),
    },
    '*',
  );
}

addEventListener('message', (event) => {
  if (screen.frame === null || event.source !== screen.frame.contentWindow) return;
  const data = event.data;
  if (data?.type !== 'devicehub.screen.health') return;
  screen.health = { at: Date.now(), healthy: data.healthy === true, dataFresh: data.dataFresh === true };
});

/** Resolves true once the running bundle reports healthy, false at the deadline. */
async function healthGate(deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (screen.health.healthy) return true;
    await sleep(200);
  }
  return screen.health.healthy;
}

// --- reports ------------------------------------------------------------------------------

function healthNow() {
  const alive = screen.frame !== null && Date.now() - screen.health.at < 3 * heartbeatMs;
  return {
    pageAlive: alive,
    dataFresh: alive && screen.health.dataFresh,
    bundleHealthy: alive && screen.health.healthy,
  };
}

/** One report: the running bundle, its health and the update state not yet delivered. */
async function report(update) {
  if (update !== undefined) screen.pending = update;
  const sent = screen.pending;
  const body = {
    boot,
    seq: ++seq,
    ...(screen.current ? { name: screen.current.name, version: screen.current.version } : {}),
    ...(sent ? { update: sent } : {}),
    health: healthNow(),
  };
  try {
    const response = await fetch(`/v1/screens/${encodeURIComponent(id)}/status`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.ok && screen.pending === sent) screen.pending = undefined;
  } catch {
    // The next report carries it again.
  }
}

// --- moving to a manifest's bundle --------------------------------------------------------

const refused = () => new Set(readJson('refused') ?? []);
const refuse = (what) => writeJson('refused', [...refused(), what].slice(-20));

async function apply(manifest) {
  screen.config = manifest.config ?? {};
  writeJson('config', screen.config);
  sendData();
  const bundle = manifest.bundle;
  if (!bundle) return show('running');
  const attempt = `${manifest.rollout ?? 'installed'}:${bundle.sha256}`;
  const update = (state, extra = {}) =>
    manifest.rollout
      ? report({
          rollout: manifest.rollout,
          target: bundle.path,
          name: bundle.name,
          version: bundle.version,
          state,
          ...extra,
        })
      : Promise.resolve();
  if (bundle.sha256 === screen.current?.sha256) {
    // Already running it (moved before a reload, or its report lost): the rollout hears so once.
    if (manifest.rollout && readJson('reported') !== attempt) {
      writeJson('reported', attempt);
      await update('healthy');
    }
    return show('running');
  }
  if (refused().has(attempt)) return show('running');

  let bytes = await storedBundle(bundle.sha256);
  if (bytes === undefined) {
    // The rollout's spread: thousands of screens do not fetch in the same second.
    if (manifest.spreadMs > 0) {
      show('waiting', `${bundle.version} within ${Math.round(manifest.spreadMs / 1000)} s`);
      await sleep(Math.random() * manifest.spreadMs);
    }
    show('downloading', bundle.version);
    await update('downloading', { progress: 0 });
    const got = await download(bundle);
    if (got.bytes === undefined) {
      refuse(attempt);
      screen.note = `refused ${bundle.version}: ${got.reason.split(':')[0]}`;
      show('running');
      return update('failed', { reason: got.reason.slice(0, 1000) });
    }
    bytes = got.bytes;
    await update('downloaded');
    await storeBundle(bundle.sha256, bytes);
  }
  await update('verified');
  await update('installing');
  const previous = screen.current;
  const previousBytes = previous ? await storedBundle(previous.sha256) : undefined;
  const next = { sha256: bundle.sha256, name: bundle.name, version: bundle.version, path: bundle.path };
  run(next, bytes);
  show('installing', bundle.version);
  if (await healthGate(manifest.healthDeadlineMs)) {
    writeJson('current', next);
    writeJson('previous', previous);
    writeJson('reported', attempt);
    await pruneBundles([next.sha256, previous?.sha256].filter(Boolean));
    screen.note = undefined;
    show('running');
    return update('healthy');
  }
  refuse(attempt);
  if (previous && previousBytes) run(previous, previousBytes);
  await pruneBundles([previous?.sha256, readJson('previous')?.sha256].filter(Boolean));
  screen.note = `rolled back from ${bundle.version}`;
  show('running');
  return update('rolled_back', {
    reason: `HEALTH_TIMEOUT: ${bundle.version} did not report healthy within ${manifest.healthDeadlineMs} ms`,
  });
}

async function poll() {
  let etag;
  let backoff = 1000;
  for (;;) {
    try {
      const response = await fetch(`/v1/screens/${encodeURIComponent(id)}/manifest?wait=${waitSeconds}`, {
        headers: { authorization, ...(etag ? { 'if-none-match': etag } : {}) },
        cache: 'no-store',
      });
      if (response.status === 304) continue;
      if (response.status === 401 || response.status === 403) {
        show('refused', 'the gateway refused this screen’s credentials');
        if (!screen.frame) message(`Screen ${id}: the gateway refused its credentials`);
        await sleep(30_000);
        continue;
      }
      if (!response.ok) throw new Error(`manifest: HTTP ${response.status}`);
      etag = response.headers.get('etag') ?? undefined;
      await apply(await response.json());
      backoff = 1000;
    } catch (error) {
      show(screen.frame ? 'running' : 'offline', `gateway unreachable (${error?.message ?? error})`);
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 30_000);
    }
  }
}

/** The service worker, and this page and its script in its cache (the first load is not its own). */
function keepShell() {
  navigator.serviceWorker?.register('/screens/assets/sw.js', { scope: '/screens/' }).catch(() => {});
  caches
    .open('devicehub-screen-shell')
    .then((cache) =>
      cache.addAll([
        location.pathname,
        '/screens/assets/screen-client.js',
        '/screens/assets/bundle-store.js',
      ]),
    )
    .catch(() => {});
}

async function start() {
  if (!id || !secret) {
    message('Open this page as /screens/<id>#secret=<the screen’s secret>');
    return;
  }
  keepShell();
  // The running bundle first, from the local store: a reload or a cut network keeps it.
  const bytes = screen.current ? await storedBundle(screen.current.sha256) : undefined;
  if (screen.current && bytes) run(screen.current, bytes);
  else {
    screen.current = undefined;
    message(`Screen ${id}: waiting for a bundle`);
  }
  show('running');
  setInterval(() => {
    sendData();
    report();
  }, heartbeatMs);
  report();
  poll();
}

start();
