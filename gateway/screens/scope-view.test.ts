/**
 * A scope's delta lists each elevator that changed since the last tick once, however often it
 * changed, leaves out one removed since, lists one removed and added again once, and starts empty
 * after each tick; a record is listed in each kind of scope it is in, independently.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReusedList } from './reused-list.ts';
import { ScopeView, type ScreenFrame } from './scope-view.ts';
import { type ElevatorRecord, recordOf } from './tile.ts';

const tilesOf = (frame: ScreenFrame | undefined) =>
  (JSON.parse(frame!.json) as { tiles: { edgeId: string }[]; removed?: string[] }).tiles.map((t) => t.edgeId);

function scope(name: string): ScopeView {
  const s = new ScopeView(name, 'e');
  s.subscribers.add({ send() {} });
  return s;
}

const change = (s: ScopeView, r: ElevatorRecord) => s.changed(r, r.state, false);

describe('a scope between ticks', () => {
  it('lists each changed elevator once, in the order of their first change', () => {
    const s = scope('fleet');
    const [a, b, c] = ['A', 'B', 'C'].map((id) => recordOf(id, null, undefined)) as [
      ElevatorRecord,
      ElevatorRecord,
      ElevatorRecord,
    ];
    for (const r of [a, b, c]) s.add(r);
    s.tick();
    assert.equal(s.pending, false);
    assert.equal(s.tick(), undefined, 'no change, no version');
    change(s, b);
    change(s, a);
    change(s, b);
    change(s, b);
    assert.deepEqual(tilesOf(s.tick()), ['B', 'A']);
    change(s, c);
    assert.deepEqual(tilesOf(s.tick()), ['C'], 'the earlier ones are not listed again');
  });

  it('leaves out one removed since it changed, and lists one removed and added again once', () => {
    const s = scope('building:north');
    const [a, b] = ['A', 'B'].map((id) => recordOf(id, null, undefined)) as [ElevatorRecord, ElevatorRecord];
    s.add(a);
    s.add(b);
    s.tick();
    change(s, a);
    change(s, b);
    s.remove(a);
    s.remove(b);
    s.add(b);
    change(s, b);
    const frame = JSON.parse(s.tick()!.json) as { tiles: { edgeId: string }[]; removed?: string[] };
    assert.deepEqual(
      frame.tiles.map((t) => t.edgeId),
      ['B'],
    );
    assert.deepEqual(frame.removed, ['A']);
    assert.deepEqual(
      [...s.members].map((r) => r.id),
      ['B'],
    );
  });

  it('lists an elevator in its fleet, group and building scopes independently', () => {
    const [fleet, group, building] = [scope('fleet'), scope('group:g1'), scope('building:b1')];
    const r = recordOf('A', 'g1', undefined);
    for (const s of [fleet, group, building]) s.add(r);
    assert.deepEqual(tilesOf(group.tick()), ['A']);
    change(fleet, r);
    change(group, r);
    change(building, r);
    assert.deepEqual(tilesOf(fleet.tick()), ['A'], 'the fleet lists what it got before and after');
    assert.deepEqual(tilesOf(building.tick()), ['A']);
    assert.deepEqual(tilesOf(group.tick()), ['A']);
  });

  it('a scope without subscribers still starts over at its tick', () => {
    const s = new ScopeView('fleet', 'e');
    const r = recordOf('A', null, undefined);
    s.add(r);
    assert.equal(s.tick(), undefined, 'nobody to send a delta to');
    assert.equal(s.pending, false);
    s.subscribers.add({ send() {} });
    change(s, r);
    assert.deepEqual(tilesOf(s.tick()), ['A']);
  });
});

describe('a reused list', () => {
  it('drains in order and is empty after, even when a callback throws', () => {
    const list = new ReusedList<number>();
    for (const n of [1, 2, 3]) list.push(n);
    const seen: number[] = [];
    list.drain((n) => seen.push(n));
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(list.size, 0);
    list.push(4);
    assert.throws(() =>
      list.drain(() => {
        throw new Error('boom');
      }),
    );
    assert.equal(list.size, 0);
    list.push(5);
    seen.length = 0;
    list.drain((n) => seen.push(n));
    assert.deepEqual(seen, [5], 'nothing of the earlier rounds comes again');
  });
});
