/**
 * The MQTT floor: what receiving the legacy stream costs a bare mqtt.js subscriber — the
 * publishers in another process (floor-publisher.ts), a mosquitto of its own, and a receiver
 * that only counts (no decoding, no DeviceHub code). Client CPU (this process, user + system)
 * over the messages received, at the rate the benchmark offers, once the receive loop has run
 * for `warmupSeconds` (the hub's link is measured warm: a cold loop cost ~1.5 times as much).
 */
import mqtt from 'mqtt';
import { LINK_USER } from '../edge/broker/mod.ts';
import { startMosquitto, waitFor } from '../infra/mod.ts';
import { spawnPeerProcess } from './peers/peer-process.ts';

export interface MqttFloorOptions {
  /** Messages a second offered (default 6,500: 5,000 legacy edges). */
  readonly ratePerSec?: number;
  /** How long (default 5 s). */
  readonly seconds?: number;
  /** Publishing connections (default 16). */
  readonly connections?: number;
  /** Seconds received before the measured ones, so that the loop is measured warm (default 2). */
  readonly warmupSeconds?: number;
}

export interface MqttFloor {
  readonly microsPerMsg: number;
  readonly received: number;
  readonly sent: number;
  readonly ratePerSec: number;
}

export async function measureMqttFloor(o: MqttFloorOptions = {}): Promise<MqttFloor> {
  const { ratePerSec = 6_500, seconds = 5, connections = 16, warmupSeconds = 2 } = o;
  const edges = Array.from({ length: connections }, (_, i) => `E-9${String(i).padStart(5, '0')}`);
  const users: Record<string, string> = { [LINK_USER]: 'floor-secret' };
  for (const e of edges) users[e] = `floor-${e}`;
  await using broker = await startMosquitto({ users });
  const receiver = await mqtt.connectAsync(broker.url, {
    username: LINK_USER,
    password: 'floor-secret',
    clientId: `floor-${process.pid}`,
    protocolVersion: 5,
    reconnectPeriod: 0,
  });
  let received = 0;
  receiver.on('message', () => {
    received++;
  });
  await receiver.subscribeAsync('dh/v1/+/legacy', { qos: 1 });
  const publisher = spawnPeerProcess('../floor-publisher.ts', [
    broker.url,
    String(ratePerSec),
    String(seconds),
    JSON.stringify(Object.fromEntries(edges.map((e) => [e, users[e]]))),
    String(warmupSeconds),
  ]);
  try {
    // Each line as it is printed (the publishers exit, failing these, if they cannot go on).
    await publisher.line('connected');
    await publisher.line('warm');
    const before = process.cpuUsage();
    const from = received;
    const done = await publisher.line('done');
    const sent = Number(done.sent ?? 0);
    // The broker forwards what it has: wait until the count holds still (or all arrived).
    let last = -1;
    await waitFor(
      () => {
        const settled = received - from >= sent || received === last;
        last = received;
        return settled;
      },
      { timeoutMs: 10_000, intervalMs: 200, message: 'the floor receiver to settle' },
    );
    const used = process.cpuUsage(before);
    const got = received - from;
    await publisher.exited;
    return {
      microsPerMsg: Number(((used.user + used.system) / Math.max(1, got)).toFixed(2)),
      received: got,
      sent,
      ratePerSec,
    };
  } finally {
    await publisher.kill('SIGKILL');
    await receiver.endAsync();
  }
}
