/**
 * The operators' dashboard at `/ui/`: a small app of ES modules (`ui/`, one module per view, shared
 * pieces in `ui/lib/`) over the public API and `/v1/events`, with no build step. Preact, htm,
 * xterm.js and uPlot are served from their npm packages under versioned paths
 * (`/ui/vendor/<name>@<version>/`), so the page loads nothing from elsewhere; an import map in the
 * page names them. Signing in is pasting an API key (kept in the browser's local storage;
 * `/ui/#key=…` works too). `/ui/screen/<scope>` is a wall screen's page (screen.html, wall/).
 *
 * Cache policy: the app's own files are `no-cache` with a strong ETag (the browser asks each time
 * and gets a 304 while nothing changed, so a new gateway's page is never mixed with old modules);
 * vendor files have the version in their path and are `immutable` for a year. These routes are
 * plain Hono routes, not in the OpenAPI document.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';

const require = createRequire(import.meta.url);

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** Browser files taken from npm packages: the import-map name, the package and the file in it. */
const vendorFiles = [
  { specifier: 'preact', pkg: 'preact', file: 'dist/preact.mjs' },
  { specifier: 'preact/hooks', pkg: 'preact', file: 'hooks/dist/hooks.mjs' },
  { specifier: 'htm', pkg: 'htm', file: 'dist/htm.mjs' },
  { specifier: '@xterm/xterm', pkg: '@xterm/xterm', file: 'lib/xterm.mjs' },
  { specifier: null, pkg: '@xterm/xterm', file: 'css/xterm.css' },
  { specifier: 'uplot', pkg: 'uplot', file: 'dist/uPlot.esm.js' },
  { specifier: null, pkg: 'uplot', file: 'dist/uPlot.min.css' },
] as const;

interface Asset {
  readonly body: string;
  readonly type: string;
  readonly etag: string;
  readonly cache: string;
}

const asset = (body: string, path: string, cache: string): Asset => ({
  body,
  type: contentTypes[extname(path)] ?? 'application/octet-stream',
  etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  cache,
});

/** A package's folder, from its entry point (not every package exports its `package.json`). */
function packageDir(name: string): string {
  const entry = require.resolve(name);
  const folder = `${sep}node_modules${sep}${name.replaceAll('/', sep)}${sep}`;
  return entry.slice(0, entry.lastIndexOf(folder) + folder.length);
}

/** Every file under `dir`, as paths relative to it with forward slashes. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? listFiles(dir, path) : [path];
  });
}

/** The `/ui/…` path → file table: the app's files and the vendor files, read once at start. */
function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const imports: Record<string, string> = {};
  const styles: string[] = [];
  for (const v of vendorFiles) {
    const dir = packageDir(v.pkg);
    const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
    const url = `/ui/vendor/${v.pkg}@${version}/${v.file}`;
    const path = join(dir, v.file);
    assets.set(url, asset(readFileSync(path, 'utf8'), path, 'public, max-age=31536000, immutable'));
    if (v.specifier) imports[v.specifier] = url;
    else styles.push(url);
  }
  const dir = fileURLToPath(new URL('./ui/', import.meta.url));
  for (const file of listFiles(dir)) {
    if (!(extname(file) in contentTypes)) continue;
    let body = readFileSync(join(dir, file), 'utf8');
    if (file === 'index.html') {
      const head = [
        ...styles.map((href) => `<link rel="stylesheet" href="${href}">`),
        `<script type="importmap">${JSON.stringify({ imports })}</script>`,
      ].join('\n');
      body = body.replace('<!-- vendor -->', head);
    }
    assets.set(file === 'index.html' ? '/ui/' : `/ui/${file}`, asset(body, file, 'no-cache'));
  }
  return assets;
}

export function dashboardRoutes() {
  const assets = loadAssets();
  const app = new Hono();
  app.get('/', (c) => c.redirect('/ui/'));
  app.get('/ui', (c) => c.redirect('/ui/'));
  app.get('/ui/*', (c) => {
    // A wall screen's page, whatever its scope (`/ui/screen/<scope>`, gateway/screens).
    const file = assets.get(c.req.path.startsWith('/ui/screen/') ? '/ui/screen.html' : c.req.path);
    if (!file) return c.notFound();
    const headers = { etag: file.etag, 'cache-control': file.cache };
    if (c.req.header('if-none-match') === file.etag) return c.body(null, 304, headers);
    return c.body(file.body, 200, { ...headers, 'content-type': file.type });
  });
  return app;
}
