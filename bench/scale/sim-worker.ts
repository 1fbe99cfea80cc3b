/**
 * One simulator process of the scale benchmark (started by sim-fleet.ts): the edges of one broker
 * shard, each its own MQTT connection, the compact workload, jittered reconnects, and 1 % of them
 * also sending malformed messages. Its argument is the JSON of `SimWorkerArgs`. It writes a JSON
 * line a second on stdout; over IPC it takes `{quiet}` (hold QoS 0 back), `{alarmStorm}` (1 % of
 * its edges raise an alarm, QoS 1, within 10 s) and `{stop}`, after which its last line carries
 * what the broker acknowledged per edge (`[index, count]` pairs) and every reconnect's downtime.
 */
import { readFileSync } from 'node:fs';
import { Simulator, simulatedPassword } from '../../edge/mod.ts';

export interface SimWorkerArgs {
  readonly edges: number;
  readonly shard: number;
  readonly shards: number;
  /** The shard's broker listeners: edge i connects to `urls[i mod n]`. */
  readonly urls: readonly string[];
  /** The fleet CA's PEM file, for an mqtts:// url (edges log in with their passwords over TLS). */
  readonly caFile?: string;
  /** Connections opened per second at start. */
  readonly connectRate: number;
  readonly malformedShare: number;
}

export interface SimWorkerReport {
  readonly shard: number;
  readonly connected: number;
  readonly sent: number;
  readonly inFlight: number;
  readonly behindMs: number;
  readonly publishErrors: number;
  readonly malformedSent: number;
  readonly quietSkipped: number;
  readonly reconnects: number;
  /** QoS 1 messages the broker had no subscriber for (PUBACK 0x10), sent again. */
  readonly unheard: number;
  readonly done?: true;
  /** With `done`: acknowledged messages per edge, `[edge index, count]`. */
  readonly sentPerEdge?: [number, number][];
  /** With `done`: each reconnect's downtime (ms). */
  readonly reconnectMs?: number[];
}

const args = JSON.parse(process.argv[2] ?? '{}') as SimWorkerArgs;
const sim = new Simulator({
  edges: args.edges,
  transport: 'mqtt',
  workload: 'compact',
  urls: args.urls,
  password: simulatedPassword,
  connectRate: args.connectRate,
  shard: { index: args.shard, count: args.shards },
  malformed: { share: args.malformedShare, everySeconds: 10 },
  ...(args.caFile === undefined ? {} : { mqttTls: { ca: readFileSync(args.caFile, 'utf8') } }),
});

const report = (extra: Partial<SimWorkerReport> = {}, then?: () => void): void => {
  const s = sim.stats;
  const line: SimWorkerReport = {
    shard: args.shard,
    connected: s.connected,
    sent: s.sent,
    inFlight: s.inFlight,
    behindMs: s.behindMs,
    publishErrors: s.publishErrors,
    malformedSent: s.malformedSent,
    quietSkipped: s.quietSkipped,
    reconnects: sim.reconnectMs.length,
    unheard: s.unheard,
    ...extra,
  };
  // A pipe takes a long line in pieces: exit only once it is all written.
  process.stdout.write(`${JSON.stringify(line)}\n`, then);
};

const progress = setInterval(report, 1000);
let stopping = false;
process.on('message', (message: { quiet?: boolean; alarmStorm?: boolean; stop?: boolean }) => {
  if (typeof message.quiet === 'boolean') sim.quiet = message.quiet;
  if (message.alarmStorm) sim.alarmStorm(10_000, 0.01);
  if (message.stop && !stopping) {
    stopping = true;
    clearInterval(progress);
    // Bounded: an edge whose broker never acknowledged what it holds would keep end() waiting.
    const bound = new Promise((resolve) => setTimeout(resolve, 15_000).unref());
    void Promise.race([sim.stop(), bound]).then(() => {
      const sentPerEdge: [number, number][] = [];
      sim.sentPerEdge().forEach((count, i) => {
        if (count > 0) sentPerEdge.push([i, count]);
      });
      report({ done: true, sentPerEdge, reconnectMs: sim.reconnectMs }, () => process.exit(0));
    });
  }
});
// The parent gone: nothing to report to.
process.once('disconnect', () => process.exit(0));
report();
void sim.start();
