/**
 * The peers bench's actor for DeviceHub (`devicehub node --actors-module bench/peers/peer-actor.ts`):
 * `peer/<edgeId>` runs the edge actor's telemetry handler and its offline timer under the delivery
 * record of measure.ts, the same wrapped handler the BullMQ and Kafka workers run.
 */
import { fileURLToPath } from 'node:url';
import { type ActorContext, type ActorDefinition, defineActor } from '../../actors/mod.ts';
import { createEdgeActor } from '../../edge/actor/mod.ts';
import { applyPeer, initialPeerState, type PeerPayload, type PeerState } from './measure.ts';

const edge = createEdgeActor();
const offline = edge.timers!.offline;

export const peerActor = defineActor({
  type: 'peer',
  initialState: initialPeerState,
  handlers: {
    telemetry: (state: PeerState, payload: PeerPayload, ctx: ActorContext): PeerState =>
      applyPeer(state, payload, ctx),
  },
  timers: {
    offline(state: PeerState, data: unknown, ctx: ActorContext): PeerState | undefined {
      const next = offline(state.edge, data, ctx);
      return next === undefined ? undefined : { ...state, edge: next };
    },
  },
});

export const actors = [peerActor as ActorDefinition];

/** This module's path, for `devicehub node --actors-module`. */
export const PEER_ACTORS_MODULE = fileURLToPath(import.meta.url);
