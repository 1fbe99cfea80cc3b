/** The `logs` benchmark's numbers and targets, from what logs.ts measured. */
import type { MarkerSighting } from '../logs-probe.ts';
import { quantile } from '../quantile.ts';
import type { Target } from '../report.ts';
import type { ScenarioOptions, ScenarioResult } from './common.ts';
import type { LogsOptions, LogsWindow } from './logs.ts';

export interface LogsMeasured {
  readonly runId: string;
  /** Edge lines the broker acknowledged. */
  readonly linesSent: number;
  /** Lines with the run's word in the store at the end. */
  readonly linesStored: number;
  /** Distinct lines of those (the shipper is at least once: a line may be stored twice). */
  readonly linesDistinct: number;
  readonly logErrors: number;
  readonly markersSent: number;
  readonly sightings: readonly MarkerSighting[];
  /** When the 1× phase, the burst and its end began (ms), and how long after the burst's end its lines were all queryable. */
  readonly steadyAt: number;
  readonly burstAt: number;
  readonly burstEndAt: number;
  readonly backlogClearedMs: number;
  /** When the store was stopped and when it answered again (ms). */
  readonly downAt: number;
  readonly upAt: number;
  /** From the simulator's stop until the store held every line (or the deadline). */
  readonly drainMs: number;
  /** Lines in the store per service (hub processes' own and the edges' sources). */
  readonly byService: Record<string, number>;
  /** VictoriaLogs' CPU over the run (both of its processes). */
  readonly storeCpuMicros: number;
  readonly baseline: LogsWindow;
  readonly steady: LogsWindow;
  readonly burst: LogsWindow;
  readonly behindMs: number;
}

/** Markers sent this long before the stop may wait for the store too: not a "store up" sample. */
const OUTAGE_MARGIN_MS = 5000;
const EDGE_SOURCES = new Set(['elenet', 'litefcccore', 'agent']);

export function logsReport(
  o: ScenarioOptions,
  lo: LogsOptions,
  m: LogsMeasured,
): Omit<ScenarioResult, 'plot'> {
  const lost = Math.max(0, m.linesSent - m.linesDistinct);
  const hubCpu = (x: LogsWindow) => x.w.cpuMicros + x.linkMicros;
  const baseRate = hubCpu(m.baseline) / o.seconds;
  const logSeconds = o.seconds + lo.burstSeconds;
  const logLines = m.steady.lines + m.burst.lines;
  const extraHubCpu = hubCpu(m.steady) + hubCpu(m.burst) - baseRate * logSeconds;
  const linkExtra =
    m.steady.linkMicros + m.burst.linkMicros - (m.baseline.linkMicros / o.seconds) * logSeconds;
  const perLine = (micros: number, lines: number) => Number((micros / Math.max(1, lines)).toFixed(2));
  const delays = (filter: (s: MarkerSighting) => boolean) =>
    m.sightings.filter(filter).map((s) => s.seenAt - s.sentAt);
  // Before the outage (the steady and burst phases); after it, the shipper first replays its disk
  // buffer (after its backoff), which the markers sent then wait behind: reported apart.
  const storeUp = delays((s) => s.sentAt < m.downAt - OUTAGE_MARGIN_MS);
  const steady = delays((s) => s.sentAt >= m.steadyAt && s.sentAt < m.burstAt);
  const inBurst = delays((s) => s.sentAt >= m.burstAt && s.sentAt <= m.burstEndAt);
  const afterOutage = delays((s) => s.sentAt > m.upAt);
  const all = delays(() => true);
  const heldBack = m.sightings.filter((s) => s.sentAt <= m.upAt && s.sentAt >= m.downAt - OUTAGE_MARGIN_MS);
  const backlogSeenMs = Math.max(0, ...heldBack.map((s) => s.seenAt - m.upAt));
  const totalStored = Object.values(m.byService).reduce((a, b) => a + b, 0);
  const hubLines = Object.entries(m.byService)
    .filter(([service]) => !EDGE_SOURCES.has(service))
    .reduce((sum, [, n]) => sum + n, 0);
  const p99 = (x: LogsWindow) => x.w.latency.quantile(0.99);
  const withoutLogs = p99(m.baseline);
  const duringBurst = p99(m.burst);
  const ratio = Number((duringBurst / Math.max(1e-9, withoutLogs)).toFixed(2));
  const result = {
    scenario: 'logs',
    edges: o.edges,
    nodes: o.nodes,
    workload: lo.workload,
    linesPerSecondPerEdge: lo.linesPerSecond,
    batchSeconds: lo.batchSeconds,
    burstSeconds: lo.burstSeconds,
    storeDownSeconds: lo.storeDownSeconds,
    runId: m.runId,
    linesSent: m.linesSent,
    linesStored: m.linesStored,
    lost,
    linesDistinct: m.linesDistinct,
    /** Stored more than once (the shipper is at least once). */
    duplicated: m.linesStored - m.linesDistinct,
    publishErrors: m.logErrors,
    /** Hub CPU (link + nodes) over the log phases beyond the telemetry baseline, per edge line. */
    hubCpuMicrosPerLine: perLine(extraHubCpu, logLines),
    linkCpuMicrosPerLine: perLine(linkExtra, logLines),
    /** VictoriaLogs' CPU over the run per line it stored (edges' and hub processes'). */
    storeCpuMicrosPerLine: perLine(m.storeCpuMicros, totalStored),
    /** Markers sent while the store was up, before the outage (not within 5 s before its stop). */
    p99ShipToQueryableMs: quantile(storeUp, 0.99),
    p50ShipToQueryableMs: quantile(storeUp, 0.5),
    /** The same over the markers of the 1× phase alone, and of the burst alone. */
    p99ShipToQueryableMsSteady: quantile(steady, 0.99),
    p99ShipToQueryableMsBurst: quantile(inBurst, 0.99),
    /** From the burst's end until every line sent so far was queryable (the outage waits for it). */
    burstBacklogQueryableMs: m.backlogClearedMs,
    /** Markers sent after the store was back (behind the replayed backlog). */
    p99ShipToQueryableMsAfterOutage: quantile(afterOutage, 0.99),
    /** From the store's restart until the last marker sent around or during the outage was queryable. */
    outageBacklogQueryableMs: backlogSeenMs,
    /** Every marker, those that waited for the store included. */
    maxShipToQueryableMs: Math.max(0, ...all),
    markersSent: m.markersSent,
    markersSeen: m.sightings.length,
    telemetryP99MsWithoutLogs: withoutLogs,
    telemetryP99MsDuringBurst: duringBurst,
    telemetryP99Ratio: ratio,
    telemetryHandledDuringBurst: m.burst.w.handled,
    hubProcessLinesStored: hubLines,
    linesByService: m.byService,
    logLinesPerSecSteady: Math.round(m.steady.lines / o.seconds),
    logLinesPerSecBurst: Math.round(m.burst.lines / Math.max(1, lo.burstSeconds)),
    drainMs: m.drainMs,
    simulatorBehindMs: m.behindMs,
  };
  const targets: Target[] = [
    { metric: 'linesSent', value: result.linesSent, target: '—', met: true },
    {
      metric: 'linesStored',
      value: result.linesStored,
      target: '≥ linesSent',
      met: result.linesStored >= m.linesSent,
    },
    { metric: '  distinct', value: m.linesDistinct, target: '= linesSent', met: lost === 0 },
    { metric: 'lost', value: lost, target: '0', met: lost === 0 },
    { metric: 'duplicated', value: result.duplicated, target: '—', met: true },
    {
      metric: 'log lines/s (1×, burst)',
      value: result.logLinesPerSecSteady,
      target: `≈ ${o.edges * lo.linesPerSecond}`,
      met: true,
    },
    {
      metric: '  burst',
      value: result.logLinesPerSecBurst,
      target: `≈ ${o.edges * lo.linesPerSecond * 10}`,
      met: true,
    },
    {
      metric: 'hubCpuMicrosPerLine (link + nodes)',
      value: result.hubCpuMicrosPerLine,
      target: '—',
      met: true,
    },
    { metric: '  of which link', value: result.linkCpuMicrosPerLine, target: '—', met: true },
    { metric: 'storeCpuMicrosPerLine', value: result.storeCpuMicrosPerLine, target: '—', met: true },
    {
      metric: 'p99ShipToQueryableMs (before the outage)',
      value: result.p99ShipToQueryableMs,
      target: '< 5000',
      met: storeUp.length > 0 && result.p99ShipToQueryableMs < 5000,
    },
    {
      metric: 'markers seen / sent',
      value: result.markersSeen,
      target: `${result.markersSent}`,
      met: result.markersSeen >= result.markersSent,
    },
    { metric: 'telemetryP99MsWithoutLogs', value: withoutLogs, target: '—', met: true },
    {
      metric: 'telemetryP99MsDuringBurst',
      value: duringBurst,
      target: `≤ ${(1.5 * withoutLogs).toFixed(1)}`,
      met: ratio <= 1.5,
    },
    { metric: 'hub process lines stored', value: hubLines, target: '> 0', met: hubLines > 0 },
  ];
  return { result, targets };
}
