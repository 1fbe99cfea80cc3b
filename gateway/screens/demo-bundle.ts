/**
 * The demo wall-screen bundle: one HTML file (demo-bundle/wall.html) showing the screen's tiles,
 * a clock and its own version; `npm start` uploads it as a `screen-bundle` artifact and the screen
 * tests make their versions from it. `healthy: false` makes a bundle that never reports healthy
 * (the loader's health gate sends the screen back).
 */
import { readFileSync } from 'node:fs';

const template = readFileSync(new URL('./demo-bundle/wall.html', import.meta.url), 'utf8');

export const DEMO_BUNDLE_NAME = 'wall';
export const DEMO_BUNDLE_FILE = 'index.html';

export function demoBundle(version: string, options: { healthy?: boolean } = {}): Uint8Array {
  if (!/^[A-Za-z0-9_.+-]{1,64}$/.test(version))
    throw new RangeError(
      `Cannot make a demo bundle: version must be 1–64 of [A-Za-z0-9_.+-], got ${version}`,
    );
  const html = template
    .replaceAll('{{version}}', version)
    .replaceAll('{{healthy}}', String(options.healthy ?? true));
  return new TextEncoder().encode(html);
}
