/**
 * How an edge comes back to its broker: after a drop, reconnect attempt n waits a random time in
 * [0, min(cap, base·2^n)) (full jitter), and a connection that comes up starts the count again.
 * mqtt.js on its own retries every `reconnectPeriod` in lockstep, so after a broker restart every
 * edge of a fleet would knock at the same instant, again and again (mosquitto's accept backlog is
 * 100); spread at random and growing, the knocks fit what the brokers accept. The cap bounds how
 * long a fleet takes to be back after an outage: about the outage plus the cap (decision 050).
 * The agent uses it on every MQTT uplink; the simulator's edges use the same policy.
 */
import type { MqttClient } from 'mqtt';

export interface Backoff {
  /** The first attempt's window (ms). */
  readonly baseMs: number;
  /** The largest window (ms). */
  readonly capMs: number;
}

/**
 * The agent's default: 1 s doubling to 15 s. A fleet of 100,000 knocks at ~6,700 connections a
 * second at worst, and is back within the outage plus ~15 s.
 */
export const RECONNECT_BACKOFF: Backoff = { baseMs: 1000, capMs: 15_000 };

/** The delay before reconnect attempt `attempt` (0 first), with `random()` in [0, 1). */
export function jitteredBackoffMs(
  attempt: number,
  backoff: Backoff,
  random: () => number = Math.random,
): number {
  const { baseMs, capMs } = backoff;
  if (!(baseMs > 0) || !(capMs >= baseMs))
    throw new RangeError(`Backoff: need 0 < baseMs <= capMs, got ${baseMs} and ${capMs}`);
  // 2^attempt overflows to Infinity past ~1024; min() keeps the window at the cap.
  const window = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * window);
}

/**
 * Reconnects `client` (made with `reconnectPeriod: 0`) after every close with jittered, growing
 * delays, until it is ended. A failed attempt closes too, and waits longer. The client's stores go
 * with it: QoS 1 messages not yet acknowledged are sent again on the new connection.
 */
export function reconnectWithBackoff(client: MqttClient, backoff: Backoff = RECONNECT_BACKOFF): void {
  jitteredBackoffMs(0, backoff); // a bad backoff fails here, not at the first drop
  let attempt = 0;
  let pending: ReturnType<typeof setTimeout> | undefined;
  client.on('connect', () => {
    attempt = 0;
  });
  // Ended while an attempt waited: it must not run. (With reconnectPeriod 0, mqtt.js clears
  // `disconnecting` once end() is done; its stores are closed by then.)
  client.on('end', () => {
    clearTimeout(pending);
    pending = undefined;
  });
  client.on('close', () => {
    if (client.disconnecting || client.disconnected) return; // ended: a stop, or a switch to another broker
    const delay = jitteredBackoffMs(attempt++, backoff);
    const stores = { incomingStore: client.incomingStore, outgoingStore: client.outgoingStore };
    clearTimeout(pending);
    pending = setTimeout(() => {
      pending = undefined;
      if (!client.connected && !client.disconnecting && !client.reconnecting) client.reconnect(stores);
    }, delay);
  });
}
