/**
 * The screen's loader page: `GET /screens/{id}` is a small HTML shell (client/index.html) that
 * runs `/screens/assets/screen-client.js`, a plain ES module with no build step (decision 027).
 * Both are `no-cache` with a strong ETag, like the dashboard's files, and outside the OpenAPI
 * document. The shell names no secret: the screen's secret travels in the URL's fragment, which
 * the browser never sends (screen-client.js keeps it in the page's local storage).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { ID_PATTERN } from '../routes/schemas.ts';

interface Asset {
  readonly body: string;
  readonly type: string;
  readonly etag: string;
}

function load(file: string, type: string): Asset {
  const body = readFileSync(new URL(`./client/${file}`, import.meta.url), 'utf8');
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

const HEADERS = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function loaderRoutes() {
  const shell = load('index.html', 'text/html; charset=utf-8');
  const scripts = new Map([
    ['/screens/assets/screen-client.js', load('screen-client.js', 'text/javascript; charset=utf-8')],
    ['/screens/assets/bundle-store.js', load('bundle-store.js', 'text/javascript; charset=utf-8')],
    ['/screens/assets/sw.js', load('sw.js', 'text/javascript; charset=utf-8')],
  ]);
  const app = new Hono();
  const serve = (asset: Asset, ifNoneMatch: string | undefined) => {
    // The service worker (sw.js) lives with the script but looks after every screen's page.
    const headers = { ...HEADERS, etag: asset.etag, 'service-worker-allowed': '/screens/' };
    return ifNoneMatch === asset.etag
      ? new Response(null, { status: 304, headers })
      : new Response(asset.body, { status: 200, headers: { ...headers, 'content-type': asset.type } });
  };
  app.get('/screens/assets/:file', (c) => {
    const asset = scripts.get(c.req.path);
    return asset === undefined ? c.notFound() : serve(asset, c.req.header('if-none-match'));
  });
  app.get('/screens/:id', (c) =>
    ID_PATTERN.test(c.req.param('id')) ? serve(shell, c.req.header('if-none-match')) : c.notFound(),
  );
  return app;
}
