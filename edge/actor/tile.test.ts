/**
 * The edge actor's `edge.tile` events: one when a status changes what a wall screen shows (with
 * when the message entered the hub), none when it changes nothing a screen shows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActorContext, OutboxEvent } from '../../actors/mod.ts';
import { silentLogger } from '../../actors/mod.ts';
import { createEdgeActor } from './edge-actor.ts';
import type { EdgeState } from './state.ts';

function context(events: OutboxEvent[], now: number): ActorContext {
  return {
    address: 'edge/E-1',
    id: 'E-1',
    messageId: `${now}-0`,
    enqueuedAt: now - 5,
    now,
    epoch: 1,
    log: silentLogger,
    setTimer: () => {},
    cancelTimer: () => {},
    emit: (e) => events.push(e),
    publish: (e) => events.push(e),
    send: () => {},
  };
}

describe('the edge actor’s tile events', () => {
  it('says when what a screen shows changes, and only then', () => {
    const actor = createEdgeActor();
    const telemetry = actor.handlers.telemetry;
    const events: OutboxEvent[] = [];
    let state = actor.initialState('E-1') as EdgeState;
    const status = (n: number, data: Record<string, unknown>) => {
      state = telemetry(
        state,
        { kind: 'status', seq: n, boot: 'b', ts: n, data },
        context(events, 1000 * n),
      )!;
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
