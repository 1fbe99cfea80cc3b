/**
 * The screens benchmark's feed, run as its own process: N edges' tile changes written straight
 * into the live streams the way their edge actors publish them (`edge.tile`, edge/actor/tile.ts:
 * one live entry per tag group per commit, bus/live.ts; here per group per 10 ms tick, as a hub
 * node's turn commits a few hundred edges' tiles at once), at
 * the rate the legacy workload moves a tile — its 1 Hz status changes floor, door, people or
 * running nearly every second (bench/workload.ts), so one tile event per edge per second. Each
 * carries `enteredAt` (now), from which the screens measure edge → screen. This feeds the read
 * model at the issue's 50,000 edges, which no hub on this 2-core machine could carry at the
 * legacy rate besides everything else (65,000 messages/s; the hub's own figures are issue 19's).
 *
 *   node --import tsx bench/tile-feeder.ts --redis URL --prefix P --shards S --tag-groups G --edges N --seconds T
 *
 * Prints a JSON line each second ({"t","sent"}) and, when done or on SIGTERM, {"done":true,"sent"}.
 */
import { appendLive, connectRedis } from '../bus/mod.ts';
import { TILE_EVENT } from '../edge/mod.ts';
import { edgeId } from './cluster.ts';
import { loadProcessArgs, runPacedLoop } from './paced-loop.ts';
import { legacyData } from './workload.ts';

const { redisUrl, keyspace, edges, seconds } = loadProcessArgs();
const redis = connectRedis(redisUrl, { name: 'tile-feeder' });
const ids = Array.from({ length: edges }, (_, i) => edgeId(i));
// Each edge's tag group: its actor's address (edge/<id>) → shard → tag group.
const groupOf = ids.map((id) => keyspace.groupOf(keyspace.shardOf(`edge/${id}`)));
/** This tick's tiles, per tag group. */
let due: string[][] = Array.from({ length: keyspace.tagGroups }, () => []);
let sent = 0;
let stopping = false;
process.once('SIGTERM', () => {
  stopping = true;
});

/** What edge i's actor publishes after its status of second `second`. */
function tile(i: number, second: number, now: number): string {
  const s = legacyData('status', i, second);
  const running = s.runningStatus === 'running';
  return JSON.stringify({
    type: TILE_EVENT,
    edgeId: ids[i],
    floor: s.currentFloor,
    direction: running ? s.direction : 'idle',
    door: s.doorStatus,
    people: s.hasPerson,
    running,
    faultCode: s.faultCode,
    building: null,
    online: true,
    lastSeen: now,
    enteredAt: now,
  });
}

await runPacedLoop({
  edges,
  seconds,
  stopped: () => stopping,
  each: (i, second, now) => {
    due[groupOf[i]!]!.push(tile(i, second, now));
  },
  flush: async () => {
    const batch = due;
    due = batch.map(() => []);
    const pipeline = redis.pipeline();
    for (let g = 0; g < batch.length; g++)
      if (batch[g]!.length > 0) void appendLive(pipeline, keyspace, g, batch[g]!);
    await pipeline.exec();
    for (const tiles of batch) sent += tiles.length;
  },
  progress: (t) => process.stdout.write(`${JSON.stringify({ t, sent })}\n`),
});
process.stdout.write(`${JSON.stringify({ done: true, sent })}\n`);
redis.disconnect();
