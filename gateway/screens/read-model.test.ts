/**
 * The screen read model on its own (no Redis: no edge is registered when it starts, so it reads
 * no state; the fleet view's edges are a FleetEdges patched by hand, test-registry.ts): outbox
 * events into tiles, counts and alarms per scope, coalesced into one delta per tick, versions and
 * snapshots, stale events after a rebuild, registrations swept in, scope moves, and a slow
 * subscriber skipping deltas until it drains, then getting the snapshot.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bus } from '../../bus/mod.ts';
import type { EdgeState } from '../../edge/mod.ts';
import type { EventFeed } from '../live-events.ts';
import type { OutboxItem } from '../outbox/events.ts';
import { MAX_BEHIND, PacedSubscriber } from './paced.ts';
import { ScreenModel } from './read-model.ts';
import { KEEP_SNAPSHOT_FROM, type ScreenFrame } from './scope-view.ts';
import { TestRegistry } from './test-registry.ts';

let seq = 0;
const item = (event: Record<string, unknown>): OutboxItem => ({
  id: `g0-${++seq}-0`,
  emittedAt: 1_000_000 + seq,
  event: event as OutboxItem['event'],
});
const tile = (edgeId: string, fields: Record<string, unknown>) =>
  item({
    type: 'edge.tile',
    edgeId,
    floor: 1,
    direction: 'idle',
    door: 'closed',
    people: false,
    running: false,
    faultCode: 0,
    building: 'B-1',
    online: true,
    lastSeen: 1000,
    enteredAt: 990,
    ...fields,
  });

async function model(groups: Map<string, string | null>) {
  const registered = new TestRegistry();
  const m = new ScreenModel({ edges: registered, tickMs: 3_600_000 });
  const feed = { subscribeAll: () => () => {}, subscribeGaps: () => () => {} } as unknown as EventFeed;
  await m.start({ bus: {} as Bus, feed });
  registered.reload(groups);
  // Each one added once (the model then reads their states in): a second sweep adds none.
  assert.deepEqual(m.sweep(), [...groups.keys()]);
  assert.deepEqual(m.sweep(), []);
  await m.tick();
  return m;
}

const parse = (frame: ScreenFrame) => JSON.parse(frame.json) as Record<string, unknown>;

describe('the screen read model', () => {
  it('coalesces an elevator’s changes into one delta per tick, with counts, versions and snapshots', async () => {
    await using m = await model(
      new Map([
        ['E-1', 'G1'],
        ['E-2', 'G1'],
        ['E-3', null],
      ]),
    );
    const fleet = m.scope('fleet')!;
    assert.deepEqual(fleet.counts, { running: 0, idle: 0, fault: 0, offline: 3 });
    const frames: ScreenFrame[] = [];
    m.subscribe(fleet, { send: (f) => frames.push(f) });
    const before = fleet.snapshot();
    for (let floor = 1; floor <= 5; floor++)
      m.apply(tile('E-1', { floor, running: true, direction: 'up', lastSeen: 1000 + floor }));
    await m.tick();
    assert.equal(frames.length, 1, 'one delta for five changes');
    const delta = parse(frames[0]!);
    assert.deepEqual(delta.tiles, [
      {
        edgeId: 'E-1',
        floor: 5,
        direction: 'up',
        door: 'closed',
        people: false,
        lastSeen: 1005,
        enteredAt: 990,
        state: 'running',
      },
    ]);
    assert.deepEqual(delta.counts, { running: 1, idle: 0, fault: 0, offline: 2 });
    assert.equal(delta.alarms, undefined, 'alarms only when they changed');
    // A change writes over its own record's fields, never those of another never heard from.
    const others = (parse(fleet.snapshot()).tiles as { edgeId: string; floor: number | null }[]).filter(
      (t) => t.edgeId !== 'E-1',
    );
    assert.deepEqual(
      others.map((t) => [t.edgeId, t.floor]),
      [
        ['E-2', null],
        ['E-3', null],
      ],
    );
    assert.notEqual(fleet.snapshot().id, before.id, 'a new version');
    const { at: _first, ...first } = parse(fleet.snapshot());
    const { at: _again, ...again } = parse(fleet.snapshot());
    assert.deepEqual(first, again, 'the same version, the same snapshot');
    await m.tick();
    assert.equal(frames.length, 1, 'no change, no delta, same version');
    // The building scope exists once an elevator says it is in it.
    const building = m.scope('building:B-1')!;
    assert.deepEqual(building.counts, { running: 1, idle: 0, fault: 0, offline: 0 });
    assert.equal(m.scope('building:B-9'), undefined);
    assert.equal(m.scope('group:G1')!.members.size, 2);
    assert.equal(m.scope('group:G2'), undefined);
  });

  it('keeps open alarms with when they opened, and skips events older than what it has', async () => {
    await using m = await model(new Map([['E-1', 'G1']]));
    m.apply(tile('E-1', { lastSeen: 2000 }));
    m.apply(tile('E-1', { floor: 9, lastSeen: 1500 })); // replayed after a rebuild read the newer state
    const group = m.scope('group:G1')!;
    const frames: ScreenFrame[] = [];
    m.subscribe(group, { send: (f) => frames.push(f) });
    m.apply(item({ type: 'alarm.start', edgeId: 'E-1', alarm: 'trapped', at: 5000 }));
    m.apply(item({ type: 'alarm.start', edgeId: 'E-404', alarm: 'trapped', at: 5000 })); // not registered
    await m.tick();
    const delta = parse(frames.at(-1)!);
    assert.deepEqual(delta.alarms, [{ edgeId: 'E-1', kind: 'trapped', openedAt: 5000 }]);
    assert.deepEqual(delta.counts, { running: 0, idle: 0, fault: 1, offline: 0 });
    assert.equal((delta.tiles as { floor: number }[])[0]!.floor, 1, 'the older tile was skipped');
    // The end of an earlier opening does not close this one; its own end does.
    m.apply(item({ type: 'alarm.end', edgeId: 'E-1', alarm: 'trapped', since: 4000 }));
    m.apply(item({ type: 'edge.offline', edgeId: 'E-1', lastSeen: 1999 }));
    await m.tick();
    assert.deepEqual(parse(group.snapshot()).alarms, [{ edgeId: 'E-1', kind: 'trapped', openedAt: 5000 }]);
    assert.equal(group.counts.fault, 1, 'an offline event older than the last message is skipped');
    m.apply(item({ type: 'alarm.end', edgeId: 'E-1', alarm: 'trapped', since: 5000 }));
    m.apply(item({ type: 'edge.offline', edgeId: 'E-1', lastSeen: 2000 }));
    await m.tick();
    const last = parse(frames.at(-1)!);
    assert.deepEqual(last.alarms, []);
    assert.deepEqual(last.counts, { running: 0, idle: 0, fault: 0, offline: 1 });
  });

  it('takes a state read after start only where it is newer than what the model has', async () => {
    await using m = await model(
      new Map([
        ['E-1', 'G1'],
        ['E-2', 'G1'],
      ]),
    );
    m.apply(tile('E-1', { floor: 3, lastSeen: 5000 }));
    const state = (floor: number, lastSeen: number) =>
      ({
        online: true,
        lastSeen,
        shadow: { status: { floor, running: false, faultCode: 0 }, birth: { buildingId: 'B-1' } },
        openAlarms: { trapped: { since: 4000, data: {} } },
      }) as unknown as EdgeState;
    const e2 = () =>
      (parse(m.scope('fleet')!.snapshot()).tiles as Record<string, unknown>[]).find(
        (x) => x.edgeId === 'E-2',
      )!;
    assert.deepEqual([e2().lastSeen, e2().enteredAt], [null, null], 'never heard from: no times');
    // E-1's state predates its last tile (a checkpoint behind the outbox); E-2's is all the model has.
    m.reconcile(
      new Map([
        ['E-1', state(1, 4000)],
        ['E-2', state(8, 4500)],
      ]),
    );
    await m.tick();
    const tiles = (parse(m.scope('fleet')!.snapshot()).tiles as { edgeId: string; floor: number }[]).map(
      (x) => [x.edgeId, x.floor],
    );
    assert.deepEqual(tiles, [
      ['E-1', 3],
      ['E-2', 8],
    ]);
    assert.deepEqual(parse(m.scope('fleet')!.snapshot()).alarms, [
      { edgeId: 'E-2', kind: 'trapped', openedAt: 4000 },
    ]);
    assert.equal(e2().lastSeen, 4500);
    // A tile that does not say when it was seen is never older than what the model has.
    m.apply(tile('E-2', { floor: 9, lastSeen: undefined, enteredAt: undefined }));
    await m.tick();
    assert.deepEqual([e2().floor, e2().lastSeen, e2().enteredAt], [9, null, null]);
  });

  it('sweeps only the edges the fleet view changed, and every one after its whole reload', async () => {
    const registered = new TestRegistry();
    const m = new ScreenModel({ edges: registered, tickMs: 3_600_000 });
    const feed = { subscribeAll: () => () => {}, subscribeGaps: () => () => {} } as unknown as EventFeed;
    await m.start({ bus: {} as Bus, feed });
    const atStart = registered.walks;
    assert.deepEqual(m.sweep(), []);
    assert.equal(registered.walks, atStart, 'nothing changed: the map is not walked again');
    registered.reload([
      ['E-1', 'G1'],
      ['E-2', 'G1'],
      ['E-4', 'G1'],
    ]);
    assert.deepEqual(m.sweep(), ['E-1', 'E-2', 'E-4'], 'a whole reload: every edge');
    assert.deepEqual(m.sweep(), []);
    const walked = registered.walks;
    // Notices: E-2 moved to G2, E-1 deregistered, E-3 registered.
    registered.patch('E-2', 'G2');
    registered.patch('E-1', undefined);
    registered.patch('E-3', null);
    assert.deepEqual(m.sweep(), ['E-3']);
    assert.equal(registered.walks, walked, 'only the changed edges looked up, the map not walked');
    assert.deepEqual(m.sweep(), []);
    await m.tick();
    assert.deepEqual(m.scope('group:G1')!.counts, { running: 0, idle: 0, fault: 0, offline: 1 }, 'E-4 stays');
    assert.deepEqual(m.scope('group:G2')!.counts, { running: 0, idle: 0, fault: 0, offline: 1 });
    assert.deepEqual(m.scope('fleet')!.counts, { running: 0, idle: 0, fault: 0, offline: 3 });
    // A whole reload that dropped E-4 (no notice for it): walked, E-4 gone.
    registered.reload([
      ['E-2', 'G2'],
      ['E-3', null],
    ]);
    assert.deepEqual(m.sweep(), []);
    assert.ok(registered.walks > walked);
    await m.tick();
    assert.equal(m.scope('group:G1'), undefined, 'E-1 is gone and E-4 too');
    assert.deepEqual(m.scope('fleet')!.counts, { running: 0, idle: 0, fault: 0, offline: 2 });
    await m.stop();
  });

  it('moves an elevator between scopes when its group or building changes', async () => {
    const registered = new Map<string, string | null>([['E-1', 'G1']]);
    await using m = await model(registered);
    m.apply(tile('E-1', { building: 'B-1' }));
    await m.tick();
    const frames: ScreenFrame[] = [];
    m.subscribe(m.scope('building:B-1')!, { send: (f) => frames.push(f) });
    m.apply(tile('E-1', { building: 'B-2', lastSeen: 1001 }));
    await m.tick();
    assert.deepEqual(parse(frames[0]!).removed, ['E-1']);
    assert.equal(m.scope('building:B-1'), undefined, 'an empty building is no scope');
    assert.deepEqual(m.scope('building:B-2')!.counts, { running: 0, idle: 1, fault: 0, offline: 0 });
    assert.deepEqual(m.scope('fleet')!.counts, { running: 0, idle: 1, fault: 0, offline: 0 });
  });

  it('sends a slow subscriber no deltas while it is behind, then the snapshot once it drains', async () => {
    await using m = await model(new Map([['E-1', 'G1']]));
    const fleet = m.scope('fleet')!;
    let buffered = 0;
    const written: ScreenFrame[] = [];
    const sub = new PacedSubscriber(
      fleet,
      { write: (f) => written.push(f), heartbeat: () => {}, buffered: () => buffered },
      m.paced,
    );
    m.subscribe(fleet, sub);
    m.apply(tile('E-1', { floor: 2, lastSeen: 1001 }));
    await m.tick();
    assert.deepEqual(
      written.map((f) => f.event),
      ['delta'],
    );
    buffered = MAX_BEHIND + 1;
    m.apply(tile('E-1', { floor: 3, lastSeen: 1002 }));
    await m.tick();
    m.apply(tile('E-1', { floor: 4, lastSeen: 1003 }));
    await m.tick();
    assert.equal(written.length, 1, 'no deltas while behind');
    assert.equal(sub.behind, true);
    assert.equal(m.paced.skipped, 2);
    buffered = 0;
    sub.drained();
    assert.equal(written.at(-1)!.event, 'snapshot');
    assert.equal((parse(written.at(-1)!).tiles as { floor: number }[])[0]!.floor, 4);
    m.apply(tile('E-1', { floor: 5, lastSeen: 1004 }));
    await m.tick();
    assert.equal(written.at(-1)!.event, 'delta', 'deltas again');
  });

  it('keeps a large scope’s snapshot for its version, and makes a small one’s per request', async () => {
    const ids = Array.from({ length: KEEP_SNAPSHOT_FROM }, (_, i) => `E-${i}`);
    await using m = await model(new Map(ids.map((id) => [id, id === 'E-0' ? 'G1' : 'G2'])));
    const fleet = m.scope('fleet')!;
    const kept = fleet.snapshot();
    assert.equal(fleet.snapshot(), kept, 'the fleet’s bytes are made once per version');
    assert.equal((parse(kept).tiles as unknown[]).length, KEEP_SNAPSHOT_FROM);
    const small = m.scope('group:G1')!;
    assert.notEqual(small.snapshot(), small.snapshot(), 'made for each request');
    assert.equal(small.snapshot().id, small.snapshot().id);
    m.apply(tile('E-0', { floor: 7, lastSeen: 1001 }));
    await m.tick();
    const next = fleet.snapshot();
    assert.notEqual(next.id, kept.id);
    const e0 = (parse(next).tiles as { edgeId: string; floor: number }[]).find((t) => t.edgeId === 'E-0');
    assert.equal(e0?.floor, 7, 'a new version, a new snapshot');
  });
});
