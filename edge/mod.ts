/**
 * Everything that speaks to edges, by feature: `protocol/` (topics, formats, limits, the canonical
 * messages), `link/` (the hub-side MQTT and Kafka links and downlink relays), `actor/` (the edge
 * actor the runtime runs), `rollout/` (rollouts in waves, the `rollout/<id>` actor), `sim/` (simulated edges) and `broker/` (the MQTT broker's identities).
 * The on-device agent is in `agent/`, its own surface: it runs on the edge, not in the hub.
 */

export * from './actor/mod.ts';
export * from './link/mod.ts';
export * from './protocol/mod.ts';
export * from './rollout/mod.ts';
export * from './sim/mod.ts';
