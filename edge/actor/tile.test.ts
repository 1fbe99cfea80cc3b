/**
 * The edge actor's `edge.tile` events: one when a status changes what a wall screen shows (with
 * when the message entered the hub), none when it changes nothing a screen shows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutboxEvent } from '../../actors/mod.ts';
import { createEdgeActor } from './edge-actor.ts';
import type { EdgeState } from './state.ts';
import { recorder } from './testdata/recorder.ts';

describe('the edge actor’s tile events', () => {
  it('says when what a screen shows changes, and only then', () => {
    const actor = createEdgeActor();
    const telemetry = actor.handlers.telemetry;
    const events: OutboxEvent[] = [];
    let state = actor.initialState('E-1') as EdgeState;
    const status = (n: number, data: Record<string, unknown>) => {
      const turn = recorder(1000 * n);
      // Entered the hub 5 ms before the turn: the event carries that, not the turn's time.
      const ctx = { ...turn.ctx, enqueuedAt: 1000 * n - 5 };
      state = telemetry(state, { kind: 'status', seq: n, boot: 'b', ts: n, data }, ctx)!;
      events.push(...turn.events);
    };
    status(1, { floor: 3, direction: 'idle', door: 'closed', running: false, hasPerson: false, speed: 0 });
    status(2, { speed: 0, temperature: 24.5 }); // nothing a screen shows
    status(3, { floor: 4, direction: 'up', running: true });
    const tiles = events.filter((e) => e.type === 'edge.tile');
    assert.equal(tiles.length, 2, JSON.stringify(events));
    assert.deepEqual(tiles[1], {
      type: 'edge.tile',
      edgeId: 'E-1',
      floor: 4,
      direction: 'up',
      door: 'closed',
      people: false,
      running: true,
      faultCode: null,
      building: null,
      online: true,
      lastSeen: 3000,
      enteredAt: 2995,
    });
  });
});
