/**
 * A hub node's own numbers in the Prometheus text format, for `devicehub node --metrics-port`:
 * what it holds (shards, actors, the backlog of their mailboxes), what it did (messages read,
 * handled, dead-lettered, duplicates skipped, commits refused by fencing, turns), what it costs
 * (CPU, RSS) and its handling latency from enqueue to handled: a Prometheus histogram
 * (`histogram_quantile(0.99, rate(devicehub_node_turn_latency_seconds_bucket[1m]))` is the p99 of
 * the last minute) and, as before, p50 / p99 / max since start.
 */
import { Histogram } from './histogram.ts';
import type { NodeStats } from './node/mod.ts';
import { PromText } from './prom-text.ts';

/**
 * The turn latency histogram's bounds, seconds: dense around the tens of ms a loaded cluster
 * handles in (the benchmarks' p99 target is 50 ms), up to a minute for a node catching up.
 */
export const TURN_LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5,
  10, 30, 60,
] as const;

export function nodeStatsToPrometheus(s: NodeStats): string {
  const out = new PromText();
  const node = { node: s.node };
  out.gauge('devicehub_node_shards', 'Shards this node holds the lease of', node, s.shards);
  out.gauge('devicehub_node_actors', 'Actors active in memory', node, s.actors);
  out.gauge(
    'devicehub_node_backlog_entries',
    'Entries waiting in the mailboxes of the shards it holds (unread, or read and not yet acknowledged), at its last trim',
    node,
    s.backlog,
  );
  out.counter('devicehub_node_read_total', 'Mailbox entries read', node, s.read);
  out.counter('devicehub_node_handled_total', 'Messages handled', node, s.handled);
  out.counter('devicehub_node_dead_lettered_total', 'Messages dead-lettered', node, s.deadLettered);
  out.counter(
    'devicehub_node_duplicates_skipped_total',
    'Redelivered entries already applied',
    node,
    s.duplicatesSkipped,
  );
  out.counter(
    'devicehub_node_fenced_commits_total',
    'Commits refused: the lease had moved on',
    node,
    s.fencedCommits,
  );
  out.counter('devicehub_node_turns_total', 'Turns run', node, s.turns);
  out.counter('devicehub_node_cpu_seconds_total', 'CPU time used (user + system)', node, s.cpuMicros / 1e6);
  out.gauge('devicehub_node_rss_bytes', 'Resident memory', node, s.rssBytes);
  // The latency the turns already record (a ~3%-wide bucket per message): no second recorder.
  out.histogram(
    'devicehub_node_turn_latency_seconds',
    'Enqueue to handled (bucket counts exact to ~3% of each bound)',
    node,
    s.latencyMs,
    TURN_LATENCY_BUCKETS,
  );
  const latency = Histogram.from(s.latencyMs);
  const name = 'devicehub_node_latency_ms';
  out.family(name, 'gauge', 'Enqueue to handled, since the node started');
  for (const [quantile, v] of [
    ['0.5', latency.quantile(0.5)],
    ['0.99', latency.quantile(0.99)],
    ['1', latency.max],
  ] as const)
    out.sample(name, { ...node, quantile }, v);
  return out.text();
}
