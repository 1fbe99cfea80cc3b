/**
 * How the load processes pace their edges (load-generator.ts, tile-feeder.ts, peers/producer.ts):
 * each of N edges does its work once a second for `seconds` seconds, edge i at
 * start + s × 1000 + phase(i) so the fleet is spread evenly over each second, in 10 ms ticks: a
 * tick collects what is due (`each`, in time order) and sends it as one batch (`flush`, awaited
 * before the next tick). `progress` is called about once a second. Ends when every edge has done
 * its seconds, or at the first tick after `stopped()` is true.
 */
import { parseArgs } from 'node:util';
import { createKeyspace, type Keyspace } from '../bus/mod.ts';

export const TICK_MS = 10;

/**
 * The command line every load process takes (load-process.ts writes it): `--redis URL --prefix P
 * --shards S --tag-groups G --edges N --seconds T`; a process's own options are parsed beside.
 */
export function loadProcessArgs(): { redisUrl: string; keyspace: Keyspace; edges: number; seconds: number } {
  const { values } = parseArgs({
    strict: false,
    options: {
      redis: { type: 'string' },
      prefix: { type: 'string', default: 'dh' },
      shards: { type: 'string', default: '1024' },
      'tag-groups': { type: 'string', default: '1' },
      edges: { type: 'string', default: '5000' },
      seconds: { type: 'string', default: '30' },
    },
  });
  if (typeof values.redis !== 'string') throw new Error('--redis is required');
  return {
    redisUrl: values.redis,
    keyspace: createKeyspace({
      prefix: String(values.prefix),
      shards: Number(values.shards),
      tagGroups: Number(values['tag-groups']),
    }),
    edges: Number(values.edges),
    seconds: Number(values.seconds),
  };
}

export interface PacedLoop {
  readonly edges: number;
  readonly seconds: number;
  readonly stopped: () => boolean;
  /** Edge i's work of its second `second`, found due at `now`. */
  readonly each: (i: number, second: number, now: number) => void;
  /** Sends what this tick's `each` calls collected (not called when none was due). */
  readonly flush: (now: number) => Promise<void>;
  /** About once a second, with the ms since the start. */
  readonly progress: (elapsedMs: number) => void;
}

export async function runPacedLoop(o: PacedLoop): Promise<void> {
  const start = Date.now();
  let nextLog = start + 1000;
  const phase = (i: number) => Math.floor((i * 1000) / o.edges);
  // The work is scheduled by (second, edge) in time order.
  let cursor = 0;
  const total = o.edges * o.seconds;
  while (!o.stopped() && cursor < total) {
    const now = Date.now();
    let due = 0;
    while (cursor < total) {
      const second = Math.floor(cursor / o.edges);
      const i = cursor % o.edges;
      if (start + second * 1000 + phase(i) > now) break;
      o.each(i, second, now);
      due++;
      cursor++;
    }
    if (due > 0) await o.flush(now);
    if (now >= nextLog) {
      o.progress(now - start);
      nextLog += 1000;
    }
    const wait = TICK_MS - (Date.now() - now);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
