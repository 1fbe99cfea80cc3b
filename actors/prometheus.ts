/**
 * A hub node's own numbers in the Prometheus text format, for `devicehub node --metrics-port`:
 * what it holds (shards, actors), what it did (messages read, handled, dead-lettered, duplicates
 * skipped, commits refused by fencing, turns), what it costs (CPU, RSS) and its handling latency
 * (p50 / p99 / max since start, from enqueue to handled).
 */
import { Histogram } from './histogram.ts';
import type { NodeStats } from './node/mod.ts';

export function nodeStatsToPrometheus(s: NodeStats): string {
  const label = `{node=${JSON.stringify(s.node)}}`;
  const lines: string[] = [];
  const metric = (type: 'gauge' | 'counter') => (name: string, help: string, value: number) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}${label} ${value}`);
  };
  const gauge = metric('gauge');
  const counter = metric('counter');
  gauge('devicehub_node_shards', 'Shards this node holds the lease of', s.shards);
  gauge('devicehub_node_actors', 'Actors active in memory', s.actors);
  counter('devicehub_node_read_total', 'Mailbox entries read', s.read);
  counter('devicehub_node_handled_total', 'Messages handled', s.handled);
  counter('devicehub_node_dead_lettered_total', 'Messages dead-lettered', s.deadLettered);
  counter(
    'devicehub_node_duplicates_skipped_total',
    'Redelivered entries already applied',
    s.duplicatesSkipped,
  );
  counter('devicehub_node_fenced_commits_total', 'Commits refused: the lease had moved on', s.fencedCommits);
  counter('devicehub_node_turns_total', 'Turns run', s.turns);
  counter('devicehub_node_cpu_seconds_total', 'CPU time used (user + system)', s.cpuMicros / 1e6);
  gauge('devicehub_node_rss_bytes', 'Resident memory', s.rssBytes);
  const latency = Histogram.from(s.latencyMs);
  const name = 'devicehub_node_latency_ms';
  lines.push(`# HELP ${name} Enqueue to handled, since the node started`, `# TYPE ${name} gauge`);
  for (const [q, v] of [
    ['0.5', latency.quantile(0.5)],
    ['0.99', latency.quantile(0.99)],
    ['1', latency.max],
  ] as const)
    lines.push(`${name}{node=${JSON.stringify(s.node)},quantile="${q}"} ${v}`);
  return `${lines.join('\n')}\n`;
}
