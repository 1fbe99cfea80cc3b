/**
 * The heap census against a real process: strings it keeps in named arrays are found by their
 * shape and their retainers, the most bytes first; a concatenated string's parts count with it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringCensus, takeHeapSnapshot } from './heap-census.ts';
import { spawnInspected } from './inspected-process.ts';

// Flat strings, as a Redis client's replies are (decoded from bytes), and concatenated ones.
const PROGRAM = `
const flat = (text) => Buffer.from(text).toString();
globalThis.held = Array.from({ length: 3000 }, (_, i) => flat(JSON.stringify({ i, pad: 'x'.repeat(200) })));
globalThis.ids = Array.from({ length: 500 }, (_, i) => flat(String(1764790000000 + i) + '-' + i));
globalThis.joined = Array.from({ length: 1000 }, (_, i) => 'prefix-' + i + '-' + 'y'.repeat(50));
setInterval(() => {}, 1000);
`;

test("a process's strings, by shape and by what holds them", async (t) => {
  const port = await spawnInspected(t, PROGRAM);
  const rows = stringCensus(await takeHeapSnapshot(port));
  const held = rows.find((r) => r.path.startsWith('JSON (string) .[element] of Array .held of'));
  assert.ok(held !== undefined, JSON.stringify(rows.slice(0, 10)));
  assert.equal(held.count, 3000);
  assert.ok(held.bytes >= 3000 * 200, `${held.bytes} B`);
  assert.equal(rows[0], held, 'the largest row');
  const ids = rows.find((r) => r.path.startsWith('stream id (string) .[element] of Array .ids of'));
  assert.equal(ids?.count, 500, JSON.stringify(rows.slice(0, 10)));
  // A concatenated string's parts are counted with it, at its holder.
  const joined = rows.filter((r) => r.path.includes('.joined of'));
  assert.equal(joined.length, 1, JSON.stringify(joined));
  assert.equal(joined[0]!.count, 1000);
  assert.ok(joined[0]!.path.startsWith('concatenated (concatenated string)'), joined[0]!.path);
});
