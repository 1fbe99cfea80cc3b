/**
 * One simulated edge: its elevator day (elevator-day.ts), its workload (compact agent or today's
 * legacy JSON, workloads.ts), its own MQTT connection when it has one, and the messages each
 * simulated second makes it send.
 */
import type { MqttClient } from 'mqtt';
import { type CompactMessage, StatusEncoder } from '../protocol/mod.ts';
import { birthOf, elevatorDay, type Second } from './elevator-day.ts';
import { CompactEdge, LegacyEdge, type LegacyMessage, type Workload } from './workloads.ts';

/** A message of either workload, on its way to the broker. */
export type Outgoing = { compact: CompactMessage } | { legacy: LegacyMessage };

/** The broker's answer for `count` messages of edge `edge` (its index; -1: unknown). */
export type Acknowledge = (edge: number, count: number, error?: unknown) => void;

export interface SimEdge {
  readonly id: string;
  readonly index: number;
  readonly day: Generator<Second>;
  readonly legacy: LegacyEdge | undefined;
  readonly compact: CompactEdge | undefined;
  client: MqttClient | undefined;
  floor: number;
}

/**
 * Edge `index`'s snapshot phase: whole seconds of the minute, spread over the fleet as boot times
 * would spread them. Every simulated day starts in the same second; without a phase every edge
 * would send its full status in the same second of every minute (the whole fleet at once).
 */
export function snapshotPhaseMs(index: number): number {
  return ((index * 7919) % 60) * 1000;
}

/** Edge `index` with id `id`: its own day, starting at its own minute of the busy hours. */
export function createSimEdge(
  index: number,
  o: { id: string; workload: Workload; boot: string; client: MqttClient | undefined },
): SimEdge {
  const { id, workload, boot, client } = o;
  const from = 7 * 3600 + ((index * 7919) % (12 * 3600));
  return {
    id,
    index,
    day: elevatorDay(index + 1, 300, from),
    legacy: workload === 'legacy' ? new LegacyEdge(id, birthOf(id), { boot }) : undefined,
    compact:
      workload === 'compact'
        ? new CompactEdge(id, birthOf(id), {
            boot,
            encoder: new StatusEncoder({ snapshotMs: 60_000, phaseMs: snapshotPhaseMs(index) }),
          })
        : undefined,
    client,
    floor: 1,
  };
}

/** The edge lives its next second: what it sends goes to `send`. */
export function advance(edge: SimEdge, now: number, send: (edge: SimEdge, out: Outgoing) => void): void {
  const next = edge.day.next();
  if (next.done) return;
  const second = next.value;
  edge.floor = second.status.floor;
  if (edge.compact) for (const m of edge.compact.second(second, now).messages) send(edge, { compact: m });
  else for (const m of edge.legacy!.second(second, now)) send(edge, { legacy: m });
}
