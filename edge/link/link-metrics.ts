/**
 * A link process's own Prometheus text (`devicehub link --metrics-port`, and the demo's in-process
 * link): device messages received, mailbox entries enqueued, dead letters by code, and edges' log
 * lines by outcome (edge/link/log-intake.ts: accepted, dropped_rate, dropped_bytes, malformed,
 * no_store) — this process's counts since it started, labelled by transport; the gateway's
 * `devicehub_edge_log_lines_total` is the fleet's sum of the same counts (through Redis).
 */
import { PromText } from '../../actors/mod.ts';
import type { EdgeTransport } from '../protocol/mod.ts';
import type { LinkStats } from './dead-letter.ts';
import type { HubPresence } from './hub-presence.ts';
import { EDGE_LOG_OUTCOMES, type EdgeLogOutcome } from './log-intake.ts';

/** What the text is written from: a running MqttLink or KafkaLink. */
export interface MeteredLink {
  readonly transport: EdgeTransport;
  readonly stats: LinkStats;
  readonly logLines: Readonly<Record<EdgeLogOutcome, number>>;
  /** Kafka: consumers the link started again after kafkajs gave one up. */
  readonly consumerRestarts?: number;
}

/**
 * The links' families (the caller may add its own, e.g. processUsage); with `presence`, also the
 * hub nodes alive in the links' keyspace (none for long: the link writes where no node reads).
 */
export function linkMetricsText(links: readonly MeteredLink[], presence?: HubPresence): PromText {
  const out = new PromText();
  if (presence !== undefined) {
    out.family(
      'devicehub_link_hub_nodes',
      'gauge',
      'Hub nodes alive in the keyspace this link writes to (read every 5 s; absent while Redis does not answer)',
    );
    if (presence.liveNodes !== undefined) out.sample('devicehub_link_hub_nodes', {}, presence.liveNodes);
  }
  out.family('devicehub_link_messages_total', 'counter', 'Device messages the link took, by outcome');
  for (const link of links) {
    const t = link.transport;
    const deadLettered = Object.values(link.stats.deadLettered).reduce((a, b) => a + b, 0);
    out.sample('devicehub_link_messages_total', { transport: t, outcome: 'received' }, link.stats.received);
    out.sample('devicehub_link_messages_total', { transport: t, outcome: 'dead_lettered' }, deadLettered);
  }
  out.family(
    'devicehub_link_entries_enqueued_total',
    'counter',
    'Mailbox entries the link enqueued (a decoded device message is one entry)',
  );
  for (const link of links)
    out.sample('devicehub_link_entries_enqueued_total', { transport: link.transport }, link.stats.enqueued);
  out.family(
    'devicehub_link_dead_letters_total',
    'counter',
    'Device messages the link dead-lettered, by error code (stored, or only counted past the budget)',
  );
  for (const link of links)
    for (const [code, n] of Object.entries(link.stats.deadLettered).sort())
      out.sample('devicehub_link_dead_letters_total', { transport: link.transport, code }, n);
  out.family(
    'devicehub_link_edge_log_lines_total',
    'counter',
    'Edges’ log lines this link process took, by outcome: accepted, dropped_rate, dropped_bytes (the per-edge budget), malformed (batches), no_store',
  );
  for (const link of links)
    for (const outcome of EDGE_LOG_OUTCOMES)
      out.sample(
        'devicehub_link_edge_log_lines_total',
        { transport: link.transport, outcome },
        link.logLines[outcome],
      );
  const restarting = links.filter((link) => link.consumerRestarts !== undefined);
  if (restarting.length > 0) {
    out.family(
      'devicehub_link_consumer_restarts_total',
      'counter',
      'Kafka consumers the link started again after kafkajs gave one up (an error it does not retry)',
    );
    for (const link of restarting)
      out.sample(
        'devicehub_link_consumer_restarts_total',
        { transport: link.transport },
        link.consumerRestarts!,
      );
  }
  return out;
}
