/**
 * A named panel's data over a range, ready for uPlot: one time axis (`t`, unix seconds on the
 * range's step grid) and, per series, a value at each of its points (`null` where Prometheus had
 * none, or where it was NaN or infinite). The PromQL comes from the panel table (panels.ts); the
 * one filter the caller gives (`host` or `node`) is checked against its pattern first.
 */
import {
  HOST_PATTERN,
  NODE_PATTERN,
  PANEL_TABLE,
  type PanelName,
  quoteLabel,
  type RangeName,
  rangeBounds,
  rateWindow,
  type Unit,
} from './panels.ts';
import type { PrometheusClient, RangeSeries } from './prometheus-client.ts';

/** The most series one answer carries (a panel over every mount of a large cluster): the rest are cut. */
export const MAX_SERIES = 64;

export interface SeriesQuery {
  readonly panel: PanelName;
  readonly range: RangeName;
  /** A host's or process's `instance` (host and process panels only). */
  readonly host?: string;
  /** A hub node's id (node panels only). */
  readonly node?: string;
}

export interface ChartSeries {
  readonly label: string;
  readonly values: (number | null)[];
}

export interface SeriesResult {
  readonly panel: PanelName;
  readonly title: string;
  readonly unit: Unit;
  readonly range: RangeName;
  readonly step: number;
  readonly t: number[];
  readonly series: ChartSeries[];
  /** Series left out past MAX_SERIES. */
  readonly truncated: number;
}

/** A filter the panel does not take, or a value no label could have: the field and why. */
export class SeriesQueryError extends Error {
  readonly code = 'INVALID_FILTER';
  readonly field: 'host' | 'node';
  constructor(field: 'host' | 'node', message: string) {
    super(`${field}: ${message}`);
    this.name = 'SeriesQueryError';
    this.field = field;
  }
}

/** The PromQL a query stands for (throws SeriesQueryError for a filter the panel cannot take). */
export function panelExpression(q: SeriesQuery): string {
  const panel = PANEL_TABLE.get(q.panel);
  if (panel === undefined) throw new RangeError(`Unknown panel ${q.panel}`);
  const takesHost = panel.scope === 'host' || panel.scope === 'process';
  if (q.host !== undefined) {
    if (!takesHost)
      throw new SeriesQueryError('host', `panel ${q.panel} draws hub nodes or the cluster, not hosts`);
    if (!HOST_PATTERN.test(q.host))
      throw new SeriesQueryError('host', 'must be a target instance: 1–253 characters of [A-Za-z0-9_.:[]-]');
  }
  if (q.node !== undefined) {
    if (panel.scope !== 'node')
      throw new SeriesQueryError('node', `panel ${q.panel} does not draw hub nodes`);
    if (!NODE_PATTERN.test(q.node))
      throw new SeriesQueryError('node', 'must be a hub node id: 1–128 characters of [A-Za-z0-9_.:-]');
  }
  const matchers =
    q.host !== undefined
      ? `,instance=${quoteLabel(q.host)}`
      : q.node !== undefined
        ? `,node=${quoteLabel(q.node)}`
        : '';
  return panel.expr(matchers, rateWindow(q.range));
}

export async function readSeries(
  prometheus: PrometheusClient,
  q: SeriesQuery,
  options: { now?: number; signal?: AbortSignal } = {},
): Promise<SeriesResult> {
  const expr = panelExpression(q);
  const panel = PANEL_TABLE.get(q.panel)!;
  const bounds = rangeBounds(q.range, options.now ?? Date.now());
  const found = await prometheus.queryRange(expr, {
    ...bounds,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const filtered = q.host !== undefined || q.node !== undefined;
  const labelled = found
    .map((s) => ({ label: panel.label(s.labels, filtered), s }))
    .sort((a, b) => a.label.localeCompare(b.label, 'en', { numeric: true }));
  const t: number[] = [];
  for (let x = bounds.start; x <= bounds.end; x += bounds.step) t.push(x);
  return {
    panel: q.panel,
    title: panel.title,
    unit: panel.unit,
    range: q.range,
    step: bounds.step,
    t,
    series: labelled.slice(0, MAX_SERIES).map(({ label, s }) => ({ label, values: onGrid(s, bounds) })),
    truncated: Math.max(0, labelled.length - MAX_SERIES),
  };
}

/** A series' values at each point of the grid (null where it has none or it is not finite). */
function onGrid(s: RangeSeries, g: { start: number; end: number; step: number }): (number | null)[] {
  const values: (number | null)[] = new Array(Math.floor((g.end - g.start) / g.step) + 1).fill(null);
  for (const [time, value] of s.points) {
    const i = Math.round((time - g.start) / g.step);
    if (i >= 0 && i < values.length && Number.isFinite(value)) values[i] = round(value);
  }
  return values;
}

/** Six significant digits: enough for a chart, and a smaller answer. */
function round(v: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(6));
}
