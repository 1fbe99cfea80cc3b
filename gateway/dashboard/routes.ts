/**
 * The operators' dashboard: one page (`dashboard.html`, plain HTML and JavaScript over the API and
 * `/v1/events`; no framework, no build) at `/ui/`, with xterm.js for the browser terminal served
 * from the package, so the page needs nothing from elsewhere. Signing in is pasting an API key
 * (kept in the browser's local storage; `/ui/#key=…` works too).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Hono } from 'hono';

const require = createRequire(import.meta.url);
const xtermDir = require.resolve('@xterm/xterm/package.json').replace(/package\.json$/, '');

export function dashboardRoutes() {
  const page = readFileSync(new URL('./dashboard.html', import.meta.url), 'utf8');
  const xtermJs = readFileSync(`${xtermDir}lib/xterm.js`, 'utf8');
  const xtermCss = readFileSync(`${xtermDir}css/xterm.css`, 'utf8');
  const app = new Hono();
  app.get('/', (c) => c.redirect('/ui/'));
  app.get('/ui', (c) => c.redirect('/ui/'));
  app.get('/ui/', (c) => c.html(page));
  app.get('/ui/xterm.js', (c) => c.body(xtermJs, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  app.get('/ui/xterm.css', (c) => c.body(xtermCss, 200, { 'content-type': 'text/css; charset=utf-8' }));
  return app;
}
