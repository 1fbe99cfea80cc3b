/**
 * A small client of Prometheus's HTTP API (`/api/v1/…`): instant and range queries, the scrape
 * targets, the alerts its rules hold, its loaded alerting rule groups, and `/-/reload`. Every
 * call has a deadline (default 5 s) and the caller's signal; a failure is a `PrometheusError`
 * whose code says whose fault it is — `UNREACHABLE` or `TIMEOUT` (Prometheus down or slow: retry
 * later, the API answers 503), `BAD_QUERY` (Prometheus refused the expression: the caller's bug),
 * `BAD_RESPONSE` (an answer that is not Prometheus's JSON).
 */

export type PrometheusErrorCode = 'UNREACHABLE' | 'TIMEOUT' | 'BAD_QUERY' | 'BAD_RESPONSE';

export class PrometheusError extends Error {
  readonly code: PrometheusErrorCode;
  constructor(code: PrometheusErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PrometheusError';
    this.code = code;
  }
}

export type Labels = Readonly<Record<string, string>>;

/** One series of an instant query: its labels and value (NaN and ±Inf as they come). */
export interface InstantSample {
  readonly labels: Labels;
  readonly value: number;
}

/** One series of a range query: its labels and [unix seconds, value] points, oldest first. */
export interface RangeSeries {
  readonly labels: Labels;
  readonly points: readonly (readonly [number, number])[];
}

/** A target Prometheus scrapes, as `/api/v1/targets` reports it. */
export interface ScrapeTarget {
  readonly job: string;
  readonly instance: string;
  readonly health: 'up' | 'down' | 'unknown';
  readonly scrapeUrl: string;
  readonly lastError: string;
  /** When it was last scraped (ms since epoch; 0: never). */
  readonly lastScrape: number;
  readonly labels: Labels;
}

/** An alert of Prometheus's rules, pending or firing. */
export interface RuleAlert {
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly state: 'pending' | 'firing' | 'inactive';
  /** Since when (ms since epoch). */
  readonly activeAt: number;
  readonly value: number;
}

/** An alerting rule group Prometheus has loaded: its name and its alerts' names, in its order. */
export interface AlertRuleGroup {
  readonly name: string;
  readonly alerts: readonly string[];
}

export interface PrometheusClient {
  /** `http://host:port` (no trailing slash). */
  readonly url: string;
  query(expr: string, options?: { time?: number; signal?: AbortSignal }): Promise<InstantSample[]>;
  /** `start`/`end` in unix seconds, `step` in seconds. */
  queryRange(
    expr: string,
    range: { start: number; end: number; step: number; signal?: AbortSignal },
  ): Promise<RangeSeries[]>;
  targets(signal?: AbortSignal): Promise<ScrapeTarget[]>;
  alerts(signal?: AbortSignal): Promise<RuleAlert[]>;
  /** The alerting rule groups loaded now (a group whose file has no rules is not listed). */
  alertRuleGroups(signal?: AbortSignal): Promise<AlertRuleGroup[]>;
  /** Reloads its configuration and rules (needs `--web.enable-lifecycle`). */
  reload(signal?: AbortSignal): Promise<void>;
}

export interface PrometheusOptions {
  /** Deadline of one call, ms (default 5000). */
  readonly timeoutMs?: number;
}

export function openPrometheus(url: string, options: PrometheusOptions = {}): PrometheusClient {
  const { timeoutMs = 5000 } = options;
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new RangeError(`Cannot use Prometheus: the URL must be http(s)://host:port, got ${url}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new RangeError(`Cannot use Prometheus: the URL must be http(s)://host:port, got ${url}`);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 300_000)
    throw new RangeError(`Cannot use Prometheus: timeoutMs must be 1..300000, got ${timeoutMs}`);
  const root = base.href.replace(/\/+$/, '');

  const call = async (
    path: string,
    init: { method?: string; body?: URLSearchParams; signal?: AbortSignal },
  ) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    let response: Response;
    try {
      response = await fetch(`${root}${path}`, {
        method: init.method ?? 'GET',
        ...(init.body === undefined ? {} : { body: init.body }),
        signal,
      });
    } catch (error) {
      if (init.signal?.aborted) throw init.signal.reason;
      if (deadline.aborted)
        throw new PrometheusError('TIMEOUT', `Prometheus at ${root} did not answer within ${timeoutMs} ms`);
      throw new PrometheusError('UNREACHABLE', `Prometheus at ${root} is unreachable: ${describe(error)}`, {
        cause: error,
      });
    }
    return response;
  };

  /** An API call's `data`, or the typed error its answer stands for. */
  const api = async (path: string, init: { body?: URLSearchParams; signal?: AbortSignal }) => {
    const response = await call(path, { ...init, ...(init.body ? { method: 'POST' } : {}) });
    let body: { status?: string; data?: unknown; errorType?: string; error?: string };
    try {
      body = (await response.json()) as typeof body;
    } catch (error) {
      if (response.status >= 500)
        throw new PrometheusError('UNREACHABLE', `Prometheus at ${root} answered HTTP ${response.status}`);
      throw new PrometheusError('BAD_RESPONSE', `Prometheus at ${root} answered ${path} with no JSON`, {
        cause: error,
      });
    }
    if (body.status === 'success') return body.data;
    const why = `${body.errorType ?? 'error'}: ${body.error ?? `HTTP ${response.status}`}`;
    if (response.status === 400 || response.status === 422 || body.errorType === 'bad_data')
      throw new PrometheusError('BAD_QUERY', `Prometheus refused the query (${why})`);
    if (body.errorType === 'timeout' || body.errorType === 'canceled')
      throw new PrometheusError('TIMEOUT', `Prometheus gave up on the query (${why})`);
    throw new PrometheusError('UNREACHABLE', `Prometheus at ${root} failed (${why})`);
  };

  return {
    url: root,
    async query(expr, o = {}) {
      const body = new URLSearchParams({ query: expr });
      if (o.time !== undefined) body.set('time', String(o.time));
      const data = await api('/api/v1/query', { body, ...(o.signal ? { signal: o.signal } : {}) });
      const result = vector(data, 'vector');
      return result.map((r) => ({
        labels: labelsOf(r.metric),
        value: numberOf((r.value as unknown[])?.[1]),
      }));
    },
    async queryRange(expr, r) {
      const body = new URLSearchParams({
        query: expr,
        start: String(r.start),
        end: String(r.end),
        step: String(r.step),
      });
      const data = await api('/api/v1/query_range', { body, ...(r.signal ? { signal: r.signal } : {}) });
      return vector(data, 'matrix').map((s) => ({
        labels: labelsOf(s.metric),
        points: (Array.isArray(s.values) ? s.values : []).map(
          (p) => [Number((p as unknown[])[0]), numberOf((p as unknown[])[1])] as const,
        ),
      }));
    },
    async targets(signal) {
      const data = (await api('/api/v1/targets?state=active', signal ? { signal } : {})) as {
        activeTargets?: {
          labels?: unknown;
          health?: string;
          scrapeUrl?: string;
          lastError?: string;
          lastScrape?: string;
        }[];
      };
      if (!Array.isArray(data?.activeTargets))
        throw new PrometheusError('BAD_RESPONSE', `Prometheus at ${root} sent targets without activeTargets`);
      return data.activeTargets.map((t) => {
        const labels = labelsOf(t.labels);
        const scraped = Date.parse(t.lastScrape ?? '');
        return {
          job: labels.job ?? '',
          instance: labels.instance ?? '',
          health: t.health === 'up' || t.health === 'down' ? t.health : 'unknown',
          scrapeUrl: t.scrapeUrl ?? '',
          lastError: t.lastError ?? '',
          lastScrape: Number.isFinite(scraped) && scraped > 0 ? scraped : 0,
          labels,
        };
      });
    },
    async alerts(signal) {
      const data = (await api('/api/v1/alerts', signal ? { signal } : {})) as {
        alerts?: {
          labels?: unknown;
          annotations?: unknown;
          state?: string;
          activeAt?: string;
          value?: unknown;
        }[];
      };
      if (!Array.isArray(data?.alerts))
        throw new PrometheusError('BAD_RESPONSE', `Prometheus at ${root} sent alerts without a list`);
      return data.alerts.map((a) => ({
        labels: labelsOf(a.labels),
        annotations: labelsOf(a.annotations),
        state: a.state === 'firing' || a.state === 'pending' ? a.state : 'inactive',
        activeAt: Date.parse(a.activeAt ?? '') || 0,
        value: numberOf(a.value),
      }));
    },
    async alertRuleGroups(signal) {
      const data = (await api('/api/v1/rules?type=alert', signal ? { signal } : {})) as {
        groups?: { name?: unknown; rules?: { name?: unknown }[] }[];
      };
      if (!Array.isArray(data?.groups))
        throw new PrometheusError('BAD_RESPONSE', `Prometheus at ${root} sent rules without groups`);
      return data.groups.map((g) => ({
        name: String(g.name ?? ''),
        alerts: (Array.isArray(g.rules) ? g.rules : []).map((r) => String(r.name ?? '')),
      }));
    },
    async reload(signal) {
      const response = await call('/-/reload', { method: 'POST', ...(signal ? { signal } : {}) });
      if (response.ok) return;
      const text = (await response.text().catch(() => '')).trim().slice(0, 500);
      throw new PrometheusError(
        response.status >= 500 ? 'UNREACHABLE' : 'BAD_QUERY',
        `Prometheus at ${root} refused the reload (HTTP ${response.status}${text ? `: ${text}` : ''})`,
      );
    },
  };

  function vector(data: unknown, type: 'vector' | 'matrix') {
    const d = data as { resultType?: string; result?: unknown };
    if (d?.resultType !== type || !Array.isArray(d.result))
      throw new PrometheusError(
        'BAD_RESPONSE',
        `Prometheus at ${root} answered a ${String(d?.resultType)} where a ${type} was expected`,
      );
    return d.result as { metric?: unknown; value?: unknown; values?: unknown }[];
  }
}

/** A Prometheus sample value ("1.5", "NaN", "+Inf") as a number. */
function numberOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === '+Inf') return Number.POSITIVE_INFINITY;
  if (v === '-Inf') return Number.NEGATIVE_INFINITY;
  return typeof v === 'string' ? Number(v) : Number.NaN;
}

function labelsOf(v: unknown): Labels {
  if (typeof v !== 'object' || v === null) return {};
  return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string')) as Labels;
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
