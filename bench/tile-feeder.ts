/**
 * The screens benchmark's feed, run as its own process: N edges' tile changes written straight
 * into the outbox the way their edge actors publish them (`edge.tile`, edge/actor/tile.ts), at
 * the rate the legacy workload moves a tile — its 1 Hz status changes floor, door, people or
 * running nearly every second (bench/workload.ts), so one tile event per edge per second. Each
 * carries `enteredAt` (now), from which the screens measure edge → screen. This feeds the read
 * model at the 50,000 edges, which no hub on this 2-core machine could carry at the
 * legacy rate besides everything else (65,000 messages/s; the hub's own figures are issue 19's).
 *
 *   node --import tsx bench/tile-feeder.ts --redis URL --prefix P --shards S --tag-groups G --edges N --seconds T
 *
 * Prints a JSON line each second ({"t","sent"}) and, when done or on SIGTERM, {"done":true,"sent"}.
 */
import { connectRedis } from '../bus/mod.ts';
import { TILE_EVENT } from '../edge/mod.ts';
import { edgeId } from './cluster.ts';
import { loadProcessArgs, runPacedLoop } from './paced-loop.ts';
import { legacyData } from './workload.ts';

const { redisUrl, keyspace, edges, seconds } = loadProcessArgs();
const redis = connectRedis(redisUrl, { name: 'tile-feeder' });
const ids = Array.from({ length: edges }, (_, i) => edgeId(i));
// Each edge's outbox: its actor's address (edge/<id>) → shard → tag group.
const outboxOf = ids.map((id) => keyspace.outbox(keyspace.groupOf(keyspace.shardOf(`edge/${id}`))));
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

let pipeline = redis.pipeline();
await runPacedLoop({
  edges,
  seconds,
  stopped: () => stopping,
  each: (i, second, now) => {
    // Trimmed: nothing in this benchmark delivers (and trims) the outbox, and the model reads it live.
    pipeline.xadd(outboxOf[i]!, 'MAXLEN', '~', 200_000, '*', 'e', tile(i, second, now));
  },
  flush: async () => {
    const batch = pipeline;
    pipeline = redis.pipeline();
    await batch.exec();
    sent += batch.length;
  },
  progress: (t) => process.stdout.write(`${JSON.stringify({ t, sent })}\n`),
});
process.stdout.write(`${JSON.stringify({ done: true, sent })}\n`);
redis.disconnect();
