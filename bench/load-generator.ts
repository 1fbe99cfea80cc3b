/**
 * The load generator of the actor benchmarks, run as its own process: N edges sending the
 * legacy workload straight into their mailboxes, paced in 10 ms ticks, each message carrying
 * a per-edge sequence number so the hub's state can show what was lost or applied twice.
 *
 *   node --import tsx bench/load-generator.ts --redis URL --prefix P --shards S --edges N --seconds T
 *
 * Prints a JSON line each second ({"sent"}) and, when done or on SIGTERM, a final one with
 * {"done":true,"sent","lastSeq":[per edge]}.
 */
import { parseArgs } from 'node:util';
import { connectRedis, createKeyspace, openBus } from '../bus/mod.ts';
import { legacyData, legacyScheduleAt } from './workload.ts';

const { values } = parseArgs({
  options: {
    redis: { type: 'string' },
    prefix: { type: 'string', default: 'dh' },
    shards: { type: 'string', default: '1024' },
    'tag-groups': { type: 'string', default: '1' },
    edges: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '30' },
    'alarm-rate': { type: 'string', default: '0' },
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
const alarmRate = Number(values['alarm-rate']);
const ALARMS = ['trapped', 'overTop', 'bottomSqueeze', 'doorOpenMoving', 'overspeed', 'ebike', 'smoke'];
const alarmEnds = new Map<number, { second: number; alarm: string }>();
const redis = connectRedis(values.redis, { name: 'loadgen' });
const bus = openBus({ redis, keyspace });
const edgeId = (i: number) => `E-${String(i).padStart(6, '0')}`;
const lastSeq = new Uint32Array(edges);
const boot = `b${process.pid}`;
let sent = 0;
let stopping = false;
process.once('SIGTERM', () => {
  stopping = true;
});

const TICK_MS = 10;
const start = Date.now();
let nextLog = start + 1000;
// Edge i sends its second-s batch at start + s*1000 + phase(i): spread evenly over the second.
const phase = (i: number) => Math.floor((i * 1000) / edges);
let cursor = 0; // messages are scheduled by (second, edge) in time order
const total = edges * seconds;

while (!stopping && cursor < total) {
  const now = Date.now();
  const due: { address: string; method: string; payload: unknown }[] = [];
  while (cursor < total) {
    const second = Math.floor(cursor / edges);
    const i = cursor % edges;
    if (start + second * 1000 + phase(i) > now) break;
    const ending = alarmEnds.get(i);
    if (ending !== undefined && ending.second <= second) {
      alarmEnds.delete(i);
      lastSeq[i]!++;
      due.push({
        address: `edge/${edgeId(i)}`,
        method: 'alarm',
        payload: { alarm: ending.alarm, phase: 'end', seq: lastSeq[i], boot, ts: now },
      });
    } else if (ending === undefined && alarmRate > 0 && Math.random() < alarmRate) {
      const alarm = ALARMS[Math.floor(Math.random() * ALARMS.length)]!;
      alarmEnds.set(i, { second: second + 10, alarm });
      lastSeq[i]!++;
      due.push({
        address: `edge/${edgeId(i)}`,
        method: 'alarm',
        payload: { alarm, phase: 'start', seq: lastSeq[i], boot, ts: now, data: { floor: 3 } },
      });
    }
    for (const kind of legacyScheduleAt(second + i)) {
      lastSeq[i]!++;
      due.push({
        address: `edge/${edgeId(i)}`,
        method: 'telemetry',
        payload: { kind, seq: lastSeq[i], boot, ts: now, data: legacyData(kind, i, second) },
      });
    }
    cursor++;
  }
  if (due.length > 0) {
    await bus.enqueue(due, now);
    sent += due.length;
  }
  if (now >= nextLog) {
    process.stdout.write(`${JSON.stringify({ t: now - start, sent })}\n`);
    nextLog += 1000;
  }
  const wait = TICK_MS - (Date.now() - now);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
process.stdout.write(`${JSON.stringify({ done: true, sent, lastSeq: [...lastSeq] })}\n`);
redis.disconnect();
