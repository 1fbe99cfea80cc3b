/**
 * The clip workers' Prometheus text (`devicehub clips --metrics-port`): the clip queue's jobs by
 * state (BullMQ's counts, the whole queue: every worker reports the same numbers, aggregate them
 * with max), what this worker did (runs, clips stored, failed and retried by code, polls), Ezviz
 * calls by endpoint and errors by code, the budget (configured rate, waits, cooldowns), the
 * retention sweeper's deletions, and the time from an alarm's end to its clip in the store as a
 * Prometheus histogram (so that the workers' histograms add up: histogram_quantile over their
 * summed buckets), and the process's CPU and RSS (process_cpu_seconds_total,
 * process_resident_memory_bytes). docs/decisions/031-media.md lists the names.
 */
import {
  type HistogramJSON,
  type MetricsServer,
  type MetricsServerOptions,
  PromText,
  serveMetrics,
} from '../actors/mod.ts';
import type { ClipRetentionStats } from './retention/mod.ts';

/**
 * What it reads of a clip worker's stats (clips/worker `ClipWorkerStats`, passed as is). Written
 * out, not imported, so this text does not change with every field the worker adds.
 */
export interface ClipWorkerCounts {
  readonly runs: number;
  readonly stored: number;
  readonly failed: Readonly<Record<string, number>>;
  readonly retries: Readonly<Record<string, number>>;
  readonly polls: number;
  readonly resent: number;
  readonly downloadRetries: { readonly expired: number; readonly cut: number };
  /** Alarm end → stored, ms (an actors/histogram.ts Histogram). */
  readonly alarmEndToStoredMs: { toJSON(): HistogramJSON };
}

/** What it reads of the Ezviz client's stats (clips/ezviz `EzvizStats`, passed as is). */
export interface EzvizCounts {
  readonly calls: Readonly<Record<string, number>>;
  readonly errors: Readonly<Record<string, number>>;
  readonly budgetWaits: number;
  readonly budgetWaitMs: number;
  readonly cooldownWaits: number;
  readonly cooldownsStarted: number;
  readonly tokensFetched: number;
  readonly tokenRejections: number;
}

/** The alarm end → stored histogram's bucket bounds, seconds (a clip appears minutes after its alarm). */
export const ALARM_END_TO_STORED_BUCKETS = [
  5, 10, 30, 60, 120, 180, 300, 600, 900, 1800, 3600, 7200,
] as const;

export interface ClipMetricsInput {
  /** This worker's name (the `worker` label of its own counters). */
  readonly holder: string;
  /** `getJobCounts()` of the clip queue. */
  readonly jobCounts: Readonly<Record<string, number>>;
  readonly worker?: ClipWorkerCounts;
  readonly ezviz?: EzvizCounts;
  /** The Ezviz budget this worker was given (the cluster's: every worker has the same). */
  readonly budget?: { readonly perSecond: number; readonly burst: number };
  readonly retention?: ClipRetentionStats;
}

export function renderClipMetrics(input: ClipMetricsInput): string {
  const out = new PromText();
  const w = { worker: input.holder };
  out.family('devicehub_clips_jobs', 'gauge', 'Clip jobs in the queue by BullMQ state (the whole queue)');
  for (const [state, n] of Object.entries(input.jobCounts).sort())
    out.sample('devicehub_clips_jobs', { state }, n);
  if (input.worker) workerMetrics(out, w, input.worker);
  if (input.ezviz) ezvizMetrics(out, w, input.ezviz);
  if (input.budget) {
    out.gauge(
      'devicehub_clips_ezviz_budget_per_second',
      'Ezviz calls per second the cluster may send',
      {},
      input.budget.perSecond,
    );
    out.gauge(
      'devicehub_clips_ezviz_budget_burst',
      'Ezviz calls that may go at once',
      {},
      input.budget.burst,
    );
  }
  if (input.retention) retentionMetrics(out, w, input.retention);
  out.processUsage();
  return out.text();
}

type WorkerLabel = { readonly worker: string };

/** What this worker did with its clip jobs. */
function workerMetrics(out: PromText, w: WorkerLabel, s: ClipWorkerCounts): void {
  out.counter(
    'devicehub_clips_runs_total',
    'Clip job runs this worker began (a delayed job counts at each run)',
    w,
    s.runs,
  );
  out.counter('devicehub_clips_stored_total', 'Clips this worker stored', w, s.stored);
  out.byCode('devicehub_clips_failed_total', 'Clips this worker failed, by code', w, s.failed);
  out.byCode('devicehub_clips_retries_total', 'Retryable failures backed off, by code', w, s.retries);
  out.counter('devicehub_clips_polls_total', 'Ezviz task polls that found it still running', w, s.polls);
  out.counter(
    'devicehub_clips_resent_total',
    'Jobs whose row was already final: the result sent again',
    w,
    s.resent,
  );
  out.family('devicehub_clips_download_retries_total', 'counter', 'Downloads asked again, by reason');
  out.sample(
    'devicehub_clips_download_retries_total',
    { ...w, reason: 'expired' },
    s.downloadRetries.expired,
  );
  out.sample('devicehub_clips_download_retries_total', { ...w, reason: 'cut' }, s.downloadRetries.cut);
  out.histogram(
    'devicehub_clips_alarm_end_to_stored_seconds',
    'Alarm end (or the request, for a clip cut at its longest) to the clip stored',
    w,
    s.alarmEndToStoredMs.toJSON(),
    ALARM_END_TO_STORED_BUCKETS,
  );
}

/** This worker's Ezviz calls, errors, budget waits, cooldowns and tokens. */
function ezvizMetrics(out: PromText, w: WorkerLabel, e: EzvizCounts): void {
  out.family('devicehub_clips_ezviz_calls_total', 'counter', 'Ezviz calls sent by this worker, by endpoint');
  for (const [endpoint, n] of Object.entries(e.calls).sort())
    out.sample('devicehub_clips_ezviz_calls_total', { ...w, endpoint }, n);
  out.byCode(
    'devicehub_clips_ezviz_errors_total',
    'Ezviz error answers, by code (NETWORK: no answer)',
    w,
    e.errors,
  );
  out.counter(
    'devicehub_clips_ezviz_budget_waits_total',
    'Calls that waited for the cluster budget',
    w,
    e.budgetWaits,
  );
  out.counter(
    'devicehub_clips_ezviz_budget_wait_seconds_total',
    'Time calls waited for the budget',
    w,
    e.budgetWaitMs / 1000,
  );
  out.counter(
    'devicehub_clips_ezviz_cooldown_waits_total',
    'Budget waits that were a rate cooldown',
    w,
    e.cooldownWaits,
  );
  out.counter(
    'devicehub_clips_ezviz_cooldowns_started_total',
    'Cooldowns started on 10007/10029',
    w,
    e.cooldownsStarted,
  );
  out.counter(
    'devicehub_clips_ezviz_tokens_fetched_total',
    'Access tokens this worker fetched',
    w,
    e.tokensFetched,
  );
  out.counter(
    'devicehub_clips_ezviz_token_rejections_total',
    '10002 answers that led to a refresh',
    w,
    e.tokenRejections,
  );
}

/** The retention sweeps this worker ran. */
function retentionMetrics(out: PromText, w: WorkerLabel, r: ClipRetentionStats): void {
  out.counter(
    'devicehub_clips_retention_sweeps_total',
    'Retention sweeps this worker ran (holding the lease)',
    w,
    r.sweeps,
  );
  out.counter('devicehub_clips_retention_deleted_total', 'Clips past their retention deleted', w, r.deleted);
  out.counter(
    'devicehub_clips_retention_errors_total',
    'Retention sweeps or deletions that failed',
    w,
    r.errors,
  );
}

export type ClipMetricsServerOptions = Omit<MetricsServerOptions, 'what'>;
export type ClipMetricsServer = MetricsServer;

/** Serves `collect()` at /metrics (port 0: a free one) until closed (actors/metrics-server.ts). */
export function serveClipMetrics(o: ClipMetricsServerOptions): Promise<ClipMetricsServer> {
  return serveMetrics({ ...o, what: 'clip' });
}
