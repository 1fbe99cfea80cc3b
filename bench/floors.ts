/**
 * Floors measured in the same run, on the same machine, as the benchmark they sit beside: what
 * the same work costs with no DeviceHub code in between, so a CPU figure travels between
 * machines as a ratio (issue 19, "Figures that travel between machines").
 *
 * - Redis (floor-redis.ts): pipelined XADD of ~600 B legacy messages over the 1024 mailbox
 *   streams, then XREADGROUP over 128 of them at a time + XACK; a bare ioredis loop.
 * - MQTT (floor-mqtt.ts): a bare mqtt.js subscriber receiving the legacy stream from publishers
 *   in another process, through a mosquitto of its own, at the benchmark's rate.
 *
 * Both are measured warm, as the hub is (its window starts after a warm-up): the Redis loops after
 * 5,000 messages, as the median of three rounds; the MQTT loop after 2 s of the same stream. Cold,
 * the first measurement of a run was up to 1.5 times the next ones, which flattered the ratio.
 *
 * Client CPU (user + system) per message. `redisMicrosPerMsg` is one message's way through the
 * bus (enqueue + read + acknowledge): the floor of `actors`; the legacy MQTT path adds the receive.
 * `actors` and `ingest` measure them before the load and again after it (`bracketFloors`).
 */
import { type MqttFloorOptions, measureMqttFloor } from './floor-mqtt.ts';
import { measureRedisFloor, type RedisFloorOptions } from './floor-redis.ts';

export interface FloorOptions {
  /** The benchmark's Redis (`redis://`): the floor's keys have a prefix of their own, deleted after. */
  readonly redisUrl: string;
  /**
   * Messages the benchmark itself offers: the Redis loops run as many, within 2,000..20,000
   * (default 20,000).
   */
  readonly redisMessages?: number;
  readonly enqueueBatch?: RedisFloorOptions['enqueueBatch'];
  readonly readKeys?: RedisFloorOptions['readKeys'];
  /** The MQTT receive loop's rate and length; `false`: not measured (`mqttMicrosPerMsg` null). */
  readonly mqtt?: MqttFloorOptions | false;
}

export interface Floors {
  /** Pipelined XADD + XREADGROUP over ≥ 100 streams + XACK, µs per message. */
  readonly redisMicrosPerMsg: number;
  readonly redisEnqueueMicrosPerMsg: number;
  readonly redisReadAckMicrosPerMsg: number;
  /** The bare mqtt.js receive loop, µs per message (null when not measured). */
  readonly mqttMicrosPerMsg: number | null;
  /** How they were measured. */
  readonly settings: {
    readonly redisMessages: number;
    readonly payloadBytes: number;
    readonly enqueueBatch: number;
    readonly readKeys: number;
    /** Rounds of the Redis loops (their median is the figure). */
    readonly redisRounds: number;
    readonly mqttRatePerSec: number | null;
    readonly mqttReceived: number | null;
  };
}

export async function measureFloors(o: FloorOptions): Promise<Floors> {
  const redis = await measureRedisFloor({
    url: o.redisUrl,
    ...(o.redisMessages === undefined
      ? {}
      : { messages: Math.min(20_000, Math.max(2_000, Math.round(o.redisMessages))) }),
    ...(o.enqueueBatch === undefined ? {} : { enqueueBatch: o.enqueueBatch }),
    ...(o.readKeys === undefined ? {} : { readKeys: o.readKeys }),
  });
  const mqtt = o.mqtt === false ? undefined : await measureMqttFloor(o.mqtt ?? {});
  return {
    redisMicrosPerMsg: Number((redis.enqueueMicrosPerMsg + redis.readAckMicrosPerMsg).toFixed(2)),
    redisEnqueueMicrosPerMsg: redis.enqueueMicrosPerMsg,
    redisReadAckMicrosPerMsg: redis.readAckMicrosPerMsg,
    mqttMicrosPerMsg: mqtt?.microsPerMsg ?? null,
    settings: {
      redisMessages: redis.messages,
      payloadBytes: redis.payloadBytes,
      enqueueBatch: redis.enqueueBatch,
      readKeys: redis.readKeys,
      redisRounds: redis.rounds.length,
      mqttRatePerSec: mqtt?.ratePerSec ?? null,
      mqttReceived: mqtt?.received ?? null,
    },
  };
}

/** One measurement of the floors, as the bracket keeps it. */
export interface FloorSample {
  readonly redisMicrosPerMsg: number;
  readonly mqttMicrosPerMsg: number | null;
}

/** Floors measured before and after the load, and how far apart. */
export interface BracketedFloors extends Floors {
  /** Before the load, then after it (same settings). */
  readonly samples: readonly [FloorSample, FloorSample];
  /** |after − before| ÷ their mean of the whole path's floor (Redis + MQTT), in %. */
  readonly spreadPct: number;
}

/**
 * The floors measured on both sides of the load, averaged: a bare loop measured once, at the
 * start, and the hub under load drift apart on a machine whose speed moves from minute to minute
 * (the same code gave a legacy MQTT floor ratio of 0.97–1.99 over twelve runs); the second sample
 * halves the floor's share of that drift and `spreadPct` shows how much drift there was.
 */
export function bracketFloors(before: Floors, after: Floors): BracketedFloors {
  const mean = (a: number, b: number) => Number(((a + b) / 2).toFixed(2));
  const path = (f: Floors) => f.redisMicrosPerMsg + (f.mqttMicrosPerMsg ?? 0);
  const mqtt =
    before.mqttMicrosPerMsg === null || after.mqttMicrosPerMsg === null
      ? null
      : mean(before.mqttMicrosPerMsg, after.mqttMicrosPerMsg);
  const sample = (f: Floors): FloorSample => ({
    redisMicrosPerMsg: f.redisMicrosPerMsg,
    mqttMicrosPerMsg: f.mqttMicrosPerMsg,
  });
  const both = path(before) + path(after);
  return {
    redisMicrosPerMsg: mean(before.redisMicrosPerMsg, after.redisMicrosPerMsg),
    redisEnqueueMicrosPerMsg: mean(before.redisEnqueueMicrosPerMsg, after.redisEnqueueMicrosPerMsg),
    redisReadAckMicrosPerMsg: mean(before.redisReadAckMicrosPerMsg, after.redisReadAckMicrosPerMsg),
    mqttMicrosPerMsg: mqtt,
    settings: before.settings,
    samples: [sample(before), sample(after)],
    spreadPct: both <= 0 ? 0 : Number(((Math.abs(path(after) - path(before)) / (both / 2)) * 100).toFixed(1)),
  };
}

/** cpuMicrosPerMsg ÷ floor, two decimals (null without a floor). */
export function floorRatio(cpuMicrosPerMsg: number, floorMicrosPerMsg: number | null): number | null {
  if (floorMicrosPerMsg === null || floorMicrosPerMsg <= 0) return null;
  return Number((cpuMicrosPerMsg / floorMicrosPerMsg).toFixed(2));
}
