/**
 * `devicehub recognize`: one recognition worker process — a model's BullMQ queue in Redis, the
 * frames from the object store, the model in onnxruntime on the first execution provider that
 * loads (CUDA on a GPU server, else the CPU), micro-batched; verdicts to the edge actors; /metrics.
 * As many as the fleet needs, on any machine; SIGTERM lets the runs in flight end.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { connectRedis } from '../bus/mod.ts';
import { openPolicySource } from '../edge/mod.ts';
import { MODEL_NAME, MODEL_VERSION, modelFile } from '../infra/models.ts';
import { openObjectStore } from '../objects/mod.ts';
import {
  openDetector,
  type Provider,
  renderRecognizeMetrics,
  serveRecognizeMetrics,
  startRecognizers,
} from '../vision/mod.ts';
import { clusterConfig, clusterFlags, intFlag, openClusterBus } from './config.ts';
import { logShippingMetrics } from './log-shipping.ts';
import { processLogger } from './logger.ts';
import { stopOnSignals } from './shutdown.ts';

export const recognizeHelp = `devicehub recognize [options]    run a recognition worker: a model's queue of vision events, their
                                   frames from the object store through the model (micro-batched), the
                                   verdict to the edge actor (stops on SIGTERM/SIGINT once the runs in flight
                                   end; a killed worker's jobs are taken by another after --lock-ms)

  --redis URL          Redis URL (env REDIS_URL; required)
  --prefix P           key namespace (env DH_PREFIX; default dh)
  --shards N           shards in the cluster (env DH_SHARDS; default 1024)
  --tag-groups N       Redis Cluster hash-tag groups (env DH_TAG_GROUPS; default 1)
  --object-store URL   where the frames are (env DH_OBJECT_STORE; default file://$PWD/.devicehub/objects):
                       file:///abs/dir or s3://bucket?endpoint=…&region=…&forcePathStyle=1
  --model-file PATH    the ONNX model (env DH_RECOGNIZE_MODEL_FILE; default the provisioned
                       ${MODEL_NAME}@${MODEL_VERSION}, see infra/provision.sh)
  --model NAME         the model's name: its queue, the policy's "model" (env DH_RECOGNIZE_MODEL; default ${MODEL_NAME})
  --model-version V    the version verdicts report (env DH_RECOGNIZE_MODEL_VERSION; default ${MODEL_VERSION})
  --providers LIST     execution providers tried in order, first that loads wins (env DH_RECOGNIZE_PROVIDERS;
                       default cuda,cpu)
  --max-batch N        images per model run and jobs taken at once (env DH_RECOGNIZE_MAX_BATCH; default 4)
  --max-wait-ms MS     how long a batch's first image waits for more (env DH_RECOGNIZE_MAX_WAIT_MS; default 20)
  --threads N          onnxruntime intra-op threads (env DH_RECOGNIZE_THREADS; default 1)
  --id ID              this worker's name (env DH_RECOGNIZE_ID; default recognize-<host>-<pid>)
  --lock-ms MS         a job's lock: a dead worker's jobs are taken again after it (env DH_RECOGNIZE_LOCK_MS;
                       default 10000)
  --stalled-ms MS      how often dead workers' jobs are looked for (env DH_RECOGNIZE_STALLED_MS; default 5000)
  --metrics-port N     serve Prometheus /metrics on this port (env DH_METRICS_PORT; default: none)
  --metrics-host H     ... on this address (env DH_METRICS_HOST; default 127.0.0.1)`;

export async function recognizeCommand(argv: string[]): Promise<void> {
  const o = parseRecognizeArgs(argv);
  const { config, holder, model, version, maxBatch } = o;
  const log = processLogger('recognize').child({ worker: holder });

  const detector = await openDetector({
    modelPath: o.modelPath,
    name: model,
    version,
    providers: o.providers,
    threads: o.threads,
    maxBatch,
    logger: log,
  });
  const redis = connectRedis(o.redisUrl, { name: `recognize:${holder}` });
  redis.on('error', (err) => log.warn({ err }, 'redis connection error'));
  const bus = await openClusterBus(redis, config);
  // A job carries its kind's policy; one that does not (queued by an older gateway) is judged by
  // the configuration's, as the hub nodes read it.
  const policies = await openPolicySource({ redis, keyspace: config.keyspace, logger: log });
  const store = await openObjectStore(o.objectStore);
  const workers = await startRecognizers({
    bus,
    store,
    detector,
    model,
    maxBatch,
    maxWaitMs: o.maxWaitMs,
    holder,
    logger: log,
    kindPolicyOf: (alarm) => policies.recognition().kinds[alarm],
    timings: o.timings,
  });
  const metrics =
    o.metricsPort > 0
      ? await serveRecognizeMetrics({
          port: o.metricsPort,
          host: o.metricsHost,
          logger: log,
          collect: async () =>
            renderRecognizeMetrics({
              holder,
              model,
              version,
              provider: detector.provider,
              maxBatch,
              jobCounts: await workers.jobCounts(),
              stats: workers.stats,
            }) + logShippingMetrics(),
        })
      : undefined;
  stopOnSignals({
    log,
    // A batch in flight takes seconds at most.
    timeoutMs: 30_000,
    steps: [
      { name: 'closing /metrics', run: async () => void (await metrics?.close()) },
      { name: 'letting the runs in flight end', run: () => workers.close() },
      { name: 'closing the model', run: () => detector.close() },
      { name: 'closing the policy source', run: () => policies.close() },
      { name: 'closing the object store', run: async () => await store[Symbol.asyncDispose]() },
      { name: 'closing Redis', run: async () => void redis.disconnect() },
    ],
  });
  log.info(
    { metrics: metrics?.url, provider: detector.provider, model, version, maxBatch },
    'recognition worker ready',
  );
  // A parent that spawned us with an IPC channel (tests, benchmarks) learns we are up.
  process.send?.({ ready: true, holder, provider: detector.provider, metrics: metrics?.url });
}

/** The flags and environment of `devicehub recognize`, checked, with their defaults. */
function parseRecognizeArgs(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...clusterFlags,
      'object-store': { type: 'string' },
      'model-file': { type: 'string' },
      model: { type: 'string' },
      'model-version': { type: 'string' },
      providers: { type: 'string' },
      'max-batch': { type: 'string' },
      'max-wait-ms': { type: 'string' },
      threads: { type: 'string' },
      id: { type: 'string' },
      'lock-ms': { type: 'string' },
      'stalled-ms': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
    },
  });
  const config = clusterConfig(values);
  const env = process.env;
  if (!config.redisUrl)
    throw new RangeError('Missing --redis / REDIS_URL: the recognition jobs are queued in Redis');
  const int = (name: string, envName: string, fallback: number) =>
    intFlag(values, { name, env: envName, fallback });
  const providers = (values.providers ?? env.DH_RECOGNIZE_PROVIDERS ?? 'cuda,cpu').split(',');
  if (!providers.every((p): p is Provider => p === 'cuda' || p === 'cpu'))
    throw new RangeError(
      `Invalid --providers / DH_RECOGNIZE_PROVIDERS: expected cuda and/or cpu, got "${providers}"`,
    );
  return {
    config,
    redisUrl: config.redisUrl,
    providers,
    modelPath: values['model-file'] ?? env.DH_RECOGNIZE_MODEL_FILE ?? modelFile().path,
    model: values.model ?? env.DH_RECOGNIZE_MODEL ?? MODEL_NAME,
    version: values['model-version'] ?? env.DH_RECOGNIZE_MODEL_VERSION ?? MODEL_VERSION,
    maxBatch: int('max-batch', 'DH_RECOGNIZE_MAX_BATCH', 4),
    maxWaitMs: int('max-wait-ms', 'DH_RECOGNIZE_MAX_WAIT_MS', 20),
    threads: int('threads', 'DH_RECOGNIZE_THREADS', 1),
    holder: values.id ?? env.DH_RECOGNIZE_ID ?? `recognize-${hostname()}-${process.pid}`,
    timings: {
      lockMs: int('lock-ms', 'DH_RECOGNIZE_LOCK_MS', 10_000),
      stalledIntervalMs: int('stalled-ms', 'DH_RECOGNIZE_STALLED_MS', 5_000),
    },
    objectStore:
      values['object-store'] ?? env.DH_OBJECT_STORE ?? pathToFileURL(resolve('.devicehub', 'objects')).href,
    metricsPort: int('metrics-port', 'DH_METRICS_PORT', 0),
    metricsHost: values['metrics-host'] ?? env.DH_METRICS_HOST ?? '127.0.0.1',
  };
}
