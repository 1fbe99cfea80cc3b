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
import { connectRedis, openBus } from '../bus/mod.ts';
import { loadProcessArgs, runPacedLoop } from './paced-loop.ts';
import { legacyData, legacyScheduleAt } from './workload.ts';

const { redisUrl, keyspace, edges, seconds } = loadProcessArgs();
const { values } = parseArgs({ strict: false, options: { 'alarm-rate': { type: 'string', default: '0' } } });
const alarmRate = Number(values['alarm-rate']);
const ALARMS = ['trapped', 'overTop', 'bottomSqueeze', 'doorOpenMoving', 'overspeed', 'ebike', 'smoke'];
const alarmEnds = new Map<number, { second: number; alarm: string }>();
const redis = connectRedis(redisUrl, { name: 'loadgen' });
const bus = openBus({ redis, keyspace });
const edgeId = (i: number) => `E-${String(i).padStart(6, '0')}`;
const lastSeq = new Uint32Array(edges);
const boot = `b${process.pid}`;
let sent = 0;
let stopping = false;
process.once('SIGTERM', () => {
  stopping = true;
});

let due: { address: string; method: string; payload: unknown }[] = [];
await runPacedLoop({
  edges,
  seconds,
  stopped: () => stopping,
  each: (i, second, now) => {
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
  },
  flush: async (now) => {
    const batch = due;
    due = [];
    await bus.enqueue(batch, now);
    sent += batch.length;
  },
  progress: (t) => process.stdout.write(`${JSON.stringify({ t, sent })}\n`),
});
process.stdout.write(`${JSON.stringify({ done: true, sent, lastSeq: [...lastSeq] })}\n`);
redis.disconnect();
