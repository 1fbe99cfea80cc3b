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
import { parseArgs } from 'node:util';
import { connectRedis, createKeyspace } from '../bus/mod.ts';
import { TILE_EVENT } from '../edge/mod.ts';
import { edgeId } from './cluster.ts';
import { legacyData } from './workload.ts';

const { values } = parseArgs({
  options: {
    redis: { type: 'string' },
    prefix: { type: 'string', default: 'dh' },
    shards: { type: 'string', default: '1024' },
    'tag-groups': { type: 'string', default: '1' },
    edges: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '30' },
  },
});
if (!values.redis) throw new Error('--redis is required');
const keyspace = createKeyspace({
  prefix: values.prefix,
  shards: Number(values.shards),
  tagGroups: Number(values['tag-groups']),
});
const edges = Number(values.edges);
const seconds = Number(values.seconds);
const redis = connectRedis(values.redis, { name: 'tile-feeder' });
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

const TICK_MS = 10;
const start = Date.now();
let nextLog = start + 1000;
// Edge i's second-s change is due at start + s*1000 + phase(i): spread evenly over the second.
const phase = (i: number) => Math.floor((i * 1000) / edges);
let cursor = 0;
const total = edges * seconds;
while (!stopping && cursor < total) {
  const now = Date.now();
  const pipeline = redis.pipeline();
  let due = 0;
  while (cursor < total) {
    const second = Math.floor(cursor / edges);
    const i = cursor % edges;
    if (start + second * 1000 + phase(i) > now) break;
    // Trimmed: nothing in this benchmark delivers (and trims) the outbox, and the model reads it live.
    pipeline.xadd(outboxOf[i]!, 'MAXLEN', '~', 200_000, '*', 'e', tile(i, second, now));
    due++;
    cursor++;
  }
  if (due > 0) {
    await pipeline.exec();
    sent += due;
  }
  if (now >= nextLog) {
    process.stdout.write(`${JSON.stringify({ t: now - start, sent })}\n`);
    nextLog += 1000;
  }
  const wait = TICK_MS - (Date.now() - now);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
process.stdout.write(`${JSON.stringify({ done: true, sent })}\n`);
redis.disconnect();
