/**
 * For test files that cut a client's connection at an exact moment (infra/wire-cut.ts): their own
 * redis-server for the file, a direct connection to it, and relays to cut, each with a
 * connection through it. Not the suite's test Redis: a TCP relay cannot stand between a client
 * and a cluster's redirections, so these files run once, on one server.
 */
import { after, before } from 'node:test';
import { connectRedis, type Redis } from '../bus/mod.ts';
import { type RedisServer, startRedisServer } from './redis-server.ts';
import { waitFor } from './wait-for.ts';
import { startWireCut, type WireCut } from './wire-cut.ts';

/** A relay to the file's server and a connection through it; disposing closes both. */
export interface CutConnection extends AsyncDisposable {
  readonly wire: WireCut;
  readonly redis: Redis;
  /**
   * Runs `act` with the server's replies held back from the first one containing `marker` (text
   * only the awaited read's reply carries: replies before it, such as an empty poll, still get
   * through), waits until `ran()` shows the server did what the client asked (e.g. entries
   * pending under its name), then cuts, so that reply is lost. Resolves with the relay's
   * connection count at the cut (a reconnect makes it grow). Cuts too when `ran()` never holds,
   * so the test fails with `what` and its clients are not left waiting on held replies.
   */
  loseReplies(
    marker: string,
    act: () => Promise<unknown>,
    ran: () => Promise<boolean>,
    what: string,
  ): Promise<number>;
}

export interface WireCutRedis {
  server: RedisServer;
  /** A connection straight to the server, for the test's own commands. */
  redis: Redis;
  /** A new relay to the server and a connection (named `name`) through it. */
  relay(name: string): Promise<CutConnection>;
}

/** Starts redis-server before the file's tests and stops it after. */
export function useWireCutRedis(): WireCutRedis {
  const t = {} as WireCutRedis;
  before(async () => {
    t.server = await startRedisServer();
    t.redis = connectRedis(t.server.url, { name: 'test' });
  });
  after(async () => {
    t.redis?.disconnect();
    await t.server?.stop();
  });
  t.relay = async (name) => {
    const wire = await startWireCut({ port: t.server.port });
    const redis = connectRedis(`redis://127.0.0.1:${wire.port}`, { name });
    return {
      wire,
      redis,
      async loseReplies(marker, act, ran, what) {
        wire.holdReplies(marker);
        try {
          await act();
          await waitFor(ran, { timeoutMs: 10_000, message: what });
          return wire.connections;
        } finally {
          wire.cut();
        }
      },
      async [Symbol.asyncDispose]() {
        redis.disconnect();
        await wire.close();
      },
    };
  };
  return t;
}

/** Entries pending in `group` over `streams` (0 for a stream or group not made yet). */
export async function pendingCount(redis: Redis, streams: readonly string[], group: string): Promise<number> {
  let sum = 0;
  for (const stream of streams) {
    const reply = (await redis.xpending(stream, group).catch((error: unknown) => {
      if (String(error).includes('NOGROUP')) return [0];
      throw error;
    })) as [number];
    sum += Number(reply[0]);
  }
  return sum;
}
