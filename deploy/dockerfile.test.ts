/**
 * The image holds every layer the processes load: each top-level folder with a `mod.ts` (a layer's
 * public surface) is copied by the Dockerfile. A new layer left out would build an image whose
 * commands fail at their first import, which no other test would see (the suite runs from the
 * working tree). And it runs the Node.js major the suite runs on, which strips types itself, with
 * no loader (decision 062).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..');

test('the Dockerfile copies every layer', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const layers = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules')
    .map((d) => d.name)
    .filter((name) => existsSync(join(root, name, 'mod.ts')));
  assert.ok(layers.includes('actors') && layers.includes('logs'), `layers found: ${layers.join(', ')}`);
  const missing = layers.filter((name) => !new RegExp(`^COPY ${name} \\./${name}$`, 'm').test(dockerfile));
  assert.deepEqual(missing, [], `the Dockerfile does not copy ${missing.join(', ')}`);
});

test('the image runs the Node.js major the suite runs on, with no loader', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const suiteMajor = /^version=(\d+)\./m.exec(readFileSync(join(root, 'infra/node.sh'), 'utf8'))?.[1];
  assert.ok(suiteMajor, 'infra/node.sh names its version');
  assert.equal(
    /^FROM node:(\d+)-/m.exec(dockerfile)?.[1],
    suiteMajor,
    'the image is built FROM the suite’s major',
  );
  assert.match(dockerfile, /^ENTRYPOINT \["node", "cli\/devicehub\.ts"\]$/m);
});
