/**
 * The servers page's charts as NAMED panels: each name stands for one PromQL expression written
 * here, so a client never sends PromQL. A panel draws hosts (node_exporter), processes (the hub's
 * own /metrics, the exporters and Prometheus: their CPU and RSS), or hub nodes (messages/s, the
 * windowed p99 of their latency histogram, the backlog of the shards each holds); its one filter — `host` (a
 * target's `instance`) or `node` (a hub node's id) — is checked against a label-safe pattern
 * before it goes into a matcher, and is escaped there as well. A range is a fixed window with its
 * step and rate window.
 */

export const PANELS = [
  'cpu',
  'memory',
  'disk',
  'network',
  'process-cpu',
  'process-rss',
  'messages',
  'p99',
  'backlog',
] as const;
export type PanelName = (typeof PANELS)[number];

export const RANGES = {
  '15m': { seconds: 15 * 60, step: 15 },
  '1h': { seconds: 3600, step: 30 },
  '6h': { seconds: 6 * 3600, step: 180 },
  '24h': { seconds: 24 * 3600, step: 600 },
} as const;
export type RangeName = keyof typeof RANGES;

/** A target's `instance` label: `host:port`, `[v6]:port`, a DNS name; nothing PromQL would parse. */
export const HOST_PATTERN = /^[A-Za-z0-9_.:[\]-]{1,253}$/;
/** A hub node's id (`devicehub node --id`). */
export const NODE_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

export type PanelScope = 'host' | 'process' | 'node' | 'cluster';
export type Unit = 'percent' | 'bytes' | 'bytesPerSecond' | 'perSecond' | 'ms' | 'entries';

export interface Panel {
  readonly name: PanelName;
  readonly title: string;
  readonly unit: Unit;
  /** What it draws, and so which filter it takes: host, process → `host`; node → `node`; cluster → none. */
  readonly scope: PanelScope;
  /** The PromQL, given the filter's matchers (`,instance="…"` or empty) and the rate window. */
  readonly expr: (matchers: string, window: string) => string;
  /** A series' legend from its labels (`filtered`: one host or node was asked for). */
  readonly label: (labels: Readonly<Record<string, string>>, filtered: boolean) => string;
}

/** Filesystems that are not disks (and network mounts node_exporter may see). */
const NOT_DISKS = 'fstype!~"tmpfs|ramfs|devtmpfs|overlay|squashfs|nsfs|autofs|fuse\\\\..*|nfs.*|cifs"';
const NOT_NICS = 'device!~"lo|veth.*|docker.*|br-.*|virbr.*|cni.*|flannel.*|ifb.*"';
/**
 * Each process's own CPU and RSS: hub nodes', the gateways' (prom-client's), the clip and
 * recognition workers' (PromText.processUsage: prom-client's names), the exporters' and Prometheus's (Go's).
 */
const PROCESS_CPU =
  '__name__=~"devicehub_node_cpu_seconds_total|(devicehub_[a-z]+_)?process_cpu_seconds_total"';
const PROCESS_RSS = '__name__=~"devicehub_node_rss_bytes|(devicehub_[a-z]+_)?process_resident_memory_bytes"';

const instance = (l: Readonly<Record<string, string>>) => l.instance ?? '?';
const process = (l: Readonly<Record<string, string>>, filtered: boolean) =>
  filtered ? (l.job ?? '?') : `${l.job ?? '?'} ${instance(l)}`;

const definitions: readonly Panel[] = [
  {
    name: 'cpu',
    title: 'CPU busy',
    unit: 'percent',
    scope: 'host',
    expr: (m, w) => `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"${m}}[${w}])))`,
    label: (l, filtered) => (filtered ? 'busy' : instance(l)),
  },
  {
    name: 'memory',
    title: 'Memory used',
    unit: 'percent',
    scope: 'host',
    expr: (m) =>
      `100 * (1 - node_memory_MemAvailable_bytes{${m.slice(1)}} / node_memory_MemTotal_bytes{${m.slice(1)}})`,
    label: (l, filtered) => (filtered ? 'used' : instance(l)),
  },
  {
    name: 'disk',
    title: 'Disk used',
    unit: 'percent',
    scope: 'host',
    expr: (m) =>
      `100 * (1 - node_filesystem_avail_bytes{${NOT_DISKS}${m}} / node_filesystem_size_bytes{${NOT_DISKS}${m}})`,
    label: (l, filtered) => (filtered ? (l.mountpoint ?? '?') : `${instance(l)} ${l.mountpoint ?? '?'}`),
  },
  {
    name: 'network',
    title: 'Network',
    unit: 'bytesPerSecond',
    scope: 'host',
    expr: (m, w) =>
      `label_replace(sum by (instance) (rate(node_network_receive_bytes_total{${NOT_NICS}${m}}[${w}])), "direction", "in", "", "")` +
      ` or label_replace(sum by (instance) (rate(node_network_transmit_bytes_total{${NOT_NICS}${m}}[${w}])), "direction", "out", "", "")`,
    label: (l, filtered) => (filtered ? (l.direction ?? '?') : `${instance(l)} ${l.direction ?? '?'}`),
  },
  {
    name: 'process-cpu',
    title: 'Process CPU',
    unit: 'percent',
    scope: 'process',
    expr: (m, w) => `100 * sum by (job, instance) (rate({${PROCESS_CPU}${m}}[${w}]))`,
    label: process,
  },
  {
    name: 'process-rss',
    title: 'Process memory (RSS)',
    unit: 'bytes',
    scope: 'process',
    expr: (m) => `max by (job, instance) ({${PROCESS_RSS}${m}})`,
    label: process,
  },
  {
    name: 'messages',
    title: 'Messages handled',
    unit: 'perSecond',
    scope: 'node',
    expr: (m, w) => `sum by (node) (rate(devicehub_node_handled_total{${m.slice(1)}}[${w}]))`,
    label: (l) => l.node ?? '?',
  },
  {
    name: 'p99',
    title: 'Turn latency p99 (enqueue → handled)',
    unit: 'ms',
    scope: 'node',
    // Over each point's rate window (not since start): NaN, so a gap, where a node handled nothing.
    expr: (m, w) =>
      `1000 * histogram_quantile(0.99, sum by (node, le) (rate(devicehub_node_turn_latency_seconds_bucket{${m.slice(1)}}[${w}])))`,
    label: (l) => l.node ?? '?',
  },
  {
    name: 'backlog',
    title: 'Mailbox backlog per hub node',
    unit: 'entries',
    scope: 'node',
    // Each node's held shards, as of its last trim (every 5 s).
    expr: (m) => `max by (node) (devicehub_node_backlog_entries{${m.slice(1)}})`,
    label: (l) => l.node ?? '?',
  },
];

export const PANEL_TABLE: ReadonlyMap<PanelName, Panel> = new Map(definitions.map((p) => [p.name, p]));

/** A label matcher's value, escaped as PromQL's double-quoted strings want (on top of the pattern). */
export function quoteLabel(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
}

/** The rate window of a range: at least a minute (four 15 s scrapes), and two steps. */
export function rateWindow(range: RangeName): string {
  return `${Math.max(60, 2 * RANGES[range].step)}s`;
}

/**
 * The `[start, end]` (unix seconds) of a range ending at `now`: the last point is now, so a chart
 * polled every few seconds shows the newest scrape (each poll redraws the whole window).
 */
export function rangeBounds(range: RangeName, nowMs: number): { start: number; end: number; step: number } {
  const { seconds, step } = RANGES[range];
  const end = Math.floor(nowMs / 1000);
  return { start: end - seconds, end, step };
}
