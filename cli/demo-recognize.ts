/**
 * The demo's recognition worker (issue 17): one `devicehub recognize` process — not in the demo's
 * own process like the clip worker, which had to share the embedded PGlite (single-process); a
 * recognition worker needs no database, only Redis and the object store, and both are shareable
 * (the demo's redis-server, the gateway's ./.devicehub/objects through file://). A process keeps
 * the model's CPU work (about 115 ms an image) off the event loop of the demo's gateway and
 * simulator, and is the shape it runs in everywhere else (compose, `npm run cluster`). The
 * provisioned model on the CPU, one thread; /metrics on a loopback port; its log in
 * ./.devicehub/logs/recognize.log. With mosquitto up, DEMO-VISION (demo-vision.ts) gives it vision
 * alarms with real photographs as frames, one a minute.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { Keyspace } from '../bus/mod.ts';
import { keyspaceArgs } from '../infra/hub-process.ts';
import { freePort, spawnDevicehub } from '../infra/mod.ts';
import { modelFile } from '../infra/models.ts';
import { LOG_DIR } from './demo-logs.ts';
import { type DemoVision, startDemoVision } from './demo-vision.ts';
import { logFile } from './logger.ts';

export interface DemoRecognize {
  /** The worker's /metrics. */
  readonly metricsUrl: string;
  /** One line for the live table (its verdicts, read from /metrics every 5 s). */
  describe(): string;
  stop(): Promise<void>;
}

export async function startDemoRecognize(o: {
  redisUrl: string;
  keyspace: Keyspace;
  /** DEMO-VISION's way in: the gateway (frames), mosquitto (alarms) and its password; none: no events. */
  events?: { url: string; ca: Buffer; mqttTlsUrl: string; password: string } | undefined;
  logger: Logger;
}): Promise<DemoRecognize> {
  const model = modelFile(); // a clear error when it was not provisioned
  const metricsPort = await freePort();
  const worker = spawnDevicehub(
    [
      'recognize',
      ...keyspaceArgs(o.redisUrl, o.keyspace),
      ...['--id', 'demo-recognize-1', '--metrics-port', String(metricsPort)],
      ...['--object-store', pathToFileURL(resolve('.devicehub/objects')).href, '--model-file', model.path],
      ...['--providers', 'cpu', '--threads', '1'],
    ],
    { name: 'devicehub recognize', logFile: logFile(LOG_DIR, 'recognize') },
  );
  const ready = (await worker.ready.catch(async (error: unknown) => {
    await worker.kill();
    throw error;
  })) as { metrics?: string; provider?: string };
  let events: DemoVision | undefined;
  if (o.events)
    events = await startDemoVision({ ...o.events, logger: o.logger }).catch(async (error: unknown) => {
      await worker.stop();
      throw error;
    });
  const metricsUrl = ready.metrics ?? `http://127.0.0.1:${metricsPort}/metrics`;
  let verdicts = '';
  const poll = setInterval(() => {
    fetch(metricsUrl)
      .then((res) => res.text())
      .then((text) => {
        const counts = [
          ...text.matchAll(/^devicehub_recognize_verdicts_total\{[^}]*verdict="(\w+)"[^}]*\} (\d+)$/gm),
        ];
        verdicts = counts.map(([, verdict, n]) => `${n} ${verdict}`).join(', ');
      })
      .catch(() => {});
  }, 5_000);
  poll.unref();
  return {
    metricsUrl,
    describe: () =>
      `${model.name}@${model.version} on ${ready.provider ?? '?'}: ${verdicts || 'no verdicts yet'} · ${events?.describe() ?? 'no vision events (no mosquitto)'}`,
    async stop() {
      clearInterval(poll);
      await events?.stop();
      await worker.stop();
    },
  };
}
