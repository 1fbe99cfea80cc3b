/**
 * The settings of `devicehub clips` (the alarm clip workers) beside the ones it shares: REDIS_URL
 * and the keyspace (hub-settings.ts), DATABASE_URL and DH_OBJECT_STORE (gateway-settings.ts),
 * DH_METRICS_PORT/HOST. Ezviz's account, its rate budget (the whole cluster's, in Redis), the
 * workers' concurrency and timings. Imports nothing of the hub (every command's help loads it).
 */

import { nonEmpty, ranged, type Setting, url } from './setting-checks.ts';

export const CLIPS_SETTINGS: readonly Setting[] = [
  {
    name: 'DH_EZVIZ_URL',
    commands: ['clips'],
    doc: 'the Ezviz Open Platform (default https://open.ys7.com; the stand-in’s URL in tests and the demo)',
    check: url('http:', 'https:'),
  },
  { name: 'DH_EZVIZ_APP_KEY', commands: ['clips'], doc: 'the Ezviz account’s appKey', check: nonEmpty },
  {
    name: 'DH_EZVIZ_APP_SECRET',
    commands: ['clips'],
    doc: 'the Ezviz account’s appSecret (environment only, never a flag)',
    check: nonEmpty,
  },
  {
    name: 'DH_EZVIZ_BUDGET_PER_SECOND',
    commands: ['clips'],
    doc: 'Ezviz calls per second, every clip worker of the cluster together (default 5)',
    ...ranged(1, 10_000),
  },
  {
    name: 'DH_EZVIZ_BUDGET_BURST',
    commands: ['clips'],
    doc: 'Ezviz calls the budget lets through at once after a quiet spell (default = per second)',
    ...ranged(1, 100_000),
  },
  {
    name: 'DH_CLIPS_CONCURRENCY',
    commands: ['clips'],
    doc: 'clip jobs one worker process runs at once (default 4)',
    ...ranged(1, 256),
  },
  {
    name: 'DH_CLIPS_ID',
    commands: ['clips'],
    doc: 'this worker’s name in the clips rows and logs (default clips-<host>-<pid>)',
    check: (v) => (/^[A-Za-z0-9_.-]{1,64}$/.test(v) ? undefined : 'expected 1-64 of [A-Za-z0-9_.-]'),
  },
  {
    name: 'DH_CLIPS_TMP_DIR',
    commands: ['clips'],
    doc: 'where downloads wait for their checks (default the system’s temporary folder)',
    check: nonEmpty,
  },
  {
    name: 'DH_CLIPS_LOCK_MS',
    commands: ['clips'],
    doc: 'a job’s lock: a killed worker’s job is taken again after this (default 15000)',
    ...ranged(500, 600_000),
  },
  {
    name: 'DH_CLIPS_STALLED_MS',
    commands: ['clips'],
    doc: 'how often a worker looks for jobs whose worker died (default 10000)',
    ...ranged(100, 600_000),
  },
  {
    name: 'DH_CLIPS_POLL_MS',
    commands: ['clips'],
    doc: 'first wait between polls of a running Ezviz task (grows to 12×; default 5000)',
    ...ranged(10, 600_000),
  },
  {
    name: 'DH_CLIPS_RETRY_MS',
    commands: ['clips'],
    doc: 'first backoff after a retryable failure (doubles to 24×; default 5000)',
    ...ranged(10, 600_000),
  },
  {
    name: 'DH_CLIPS_RETENTION_S',
    commands: ['clips'],
    doc: 'seconds between retention sweeps (clips past their kind’s retention deleted; default 60)',
    ...ranged(1, 86_400),
  },
];
