/**
 * The settings of `devicehub recognize` (the recognition workers) beside the ones it shares:
 * REDIS_URL and the keyspace (hub-settings.ts), DH_OBJECT_STORE (gateway-settings.ts, where the
 * frames are), DH_METRICS_PORT/HOST. The model (its file, name and version), the execution
 * providers tried, micro-batching, threads and the worker's timings. Imports nothing of the hub
 * (every command's help loads it).
 */

import { nonEmpty, ranged, type Setting } from './setting-checks.ts';

const MODEL_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export const RECOGNIZE_SETTINGS: readonly Setting[] = [
  {
    name: 'DH_RECOGNIZE_MODEL_FILE',
    commands: ['recognize'],
    doc: 'the ONNX model file (default: the provisioned one, infra/models.ts modelFile())',
    check: nonEmpty,
  },
  {
    name: 'DH_RECOGNIZE_MODEL',
    commands: ['recognize'],
    doc: 'the model’s name: its queue is {vision-<name>}, the policy’s `model` (default yolov8n-coco)',
    check: (v) => (MODEL_NAME.test(v) ? undefined : 'expected 1-64 of [A-Za-z0-9_.-]'),
  },
  {
    name: 'DH_RECOGNIZE_MODEL_VERSION',
    commands: ['recognize'],
    doc: 'the model’s version as verdicts report it (default: the provisioned model’s)',
    check: (v) => (v.length >= 1 && v.length <= 128 ? undefined : 'expected 1-128 characters'),
  },
  {
    name: 'DH_RECOGNIZE_PROVIDERS',
    commands: ['recognize'],
    doc: 'execution providers tried in order, the first that loads wins (default cuda,cpu)',
    check: (v) =>
      v.split(',').every((p) => p === 'cuda' || p === 'cpu') ? undefined : 'expected a list of cuda, cpu',
  },
  {
    name: 'DH_RECOGNIZE_MAX_BATCH',
    commands: ['recognize'],
    doc: 'images in one model run, and jobs taken at once (default 4; 16–32 on a GPU)',
    ...ranged(1, 256),
  },
  {
    name: 'DH_RECOGNIZE_MAX_WAIT_MS',
    commands: ['recognize'],
    doc: 'how long a batch’s first image waits for more (default 20)',
    ...ranged(0, 10_000),
  },
  {
    name: 'DH_RECOGNIZE_THREADS',
    commands: ['recognize'],
    doc: 'onnxruntime intra-op threads (default 1: one worker process per core)',
    ...ranged(1, 256),
  },
  {
    name: 'DH_RECOGNIZE_ID',
    commands: ['recognize'],
    doc: 'this worker’s name in logs and metrics (default recognize-<host>-<pid>)',
    check: (v) => (/^[A-Za-z0-9_.-]{1,64}$/.test(v) ? undefined : 'expected 1-64 of [A-Za-z0-9_.-]'),
  },
  {
    name: 'DH_RECOGNIZE_LOCK_MS',
    commands: ['recognize'],
    doc: 'a job’s lock: a killed worker’s jobs are taken again after this (default 10000)',
    ...ranged(500, 600_000),
  },
  {
    name: 'DH_RECOGNIZE_STALLED_MS',
    commands: ['recognize'],
    doc: 'how often a worker looks for jobs whose worker died (default 5000)',
    ...ranged(100, 600_000),
  },
];
