import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_TIME, recordOf, stateOf, type Tile, tileJson } from './tile.ts';

/** The tile as JSON.stringify writes it: what tileJson's template must match byte for byte. */
const expected = (t: Tile) => JSON.stringify(t);

test('tileJson writes what JSON.stringify writes for the tile, awkward values included', () => {
  const plain = recordOf('E-000001', 'b-1', undefined);
  assert.equal(
    tileJson(plain, false),
    expected({
      edgeId: 'E-000001',
      floor: null,
      direction: null,
      door: null,
      people: null,
      lastSeen: null,
      enteredAt: null,
      state: 'offline',
    }),
  );
  // A hostile edge's strings (quotes, a backslash, a line break, a lone surrogate), a negative
  // zero, and times that are known.
  const odd = recordOf('E-"q"\\\n', null, undefined);
  Object.assign(odd.fields, {
    floor: -0,
    direction: 'up"\\\u2028\ud800',
    door: '',
    people: false,
    running: true,
    online: true,
  });
  odd.lastSeen = 1_764_000_000_123;
  odd.enteredAt = 1.5;
  odd.state = stateOf(odd);
  const text = tileJson(odd, false);
  assert.equal(
    text,
    expected({
      edgeId: 'E-"q"\\\n',
      floor: -0,
      direction: 'up"\\\u2028\ud800',
      door: '',
      people: false,
      lastSeen: 1_764_000_000_123,
      enteredAt: 1.5,
      state: 'running',
    }),
  );
  assert.equal((JSON.parse(text) as Tile).direction, 'up"\\\u2028\ud800');
  odd.enteredAt = NO_TIME;
  odd.fields.people = true;
  assert.match(tileJson(odd, false), /"people":true,.*"enteredAt":null,/);
});

test('tileJson keeps the JSON only when asked, until the record says it changed', () => {
  const r = recordOf('E-2', null, undefined);
  tileJson(r, false);
  assert.equal(r.json, undefined);
  const kept = tileJson(r, true);
  assert.equal(r.json, kept);
  r.fields.floor = 3; // a change that did not clear r.json: the kept text is what is served
  assert.equal(tileJson(r, false), kept);
  r.json = undefined;
  assert.match(tileJson(r, false), /"floor":3,/);
});
