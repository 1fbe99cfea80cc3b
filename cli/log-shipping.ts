/**
 * A hub process's log lines to the log store (DEVICEHUB_LOG_STORE; unset: nothing is shipped and
 * processes log as before). One shipper per process, shared by every logger processLogger makes
 * in it: each pino line is also turned into a LogRecord (logs/ship pinoLineToRecord) and pushed,
 * which never waits; while the store is away lines wait in a folder of this process's own under
 * DEVICEHUB_LOG_BUFFER_DIR (default ./.devicehub/log-buffer; `<service>-<n>`, found again by the
 * next run), at most DEVICEHUB_LOG_BUFFER_MB (default 256). stopOnSignals (cli/shutdown.ts) sends
 * the last lines as its final step; /metrics of node, link, clips and recognize carry the
 * shipper's families. docs/decisions/037-hub-log-shipping.md.
 */
import type { Logger as PinoLogger } from 'pino';
import { openLogStore } from '../logs/mod.ts';
import {
  claimBufferDir,
  type LogShipper,
  logShipperMetricsText,
  openLogShipper,
  pinoLineToRecord,
  processLogShipper,
  releaseBufferDir,
  setProcessLogShipper,
} from '../logs/ship/mod.ts';

/** This process's shipper, when it ships (set while shipping: logs/ship's process-shipper.ts). */
export { processLogShipper };

export const DEFAULT_LOG_BUFFER_DIR = './.devicehub/log-buffer';
export const DEFAULT_LOG_BUFFER_MB = 256;
/** The stop step sends for at most this long; the rest waits on disk for the next run. */
const CLOSE_MS = 2000;

interface Shipping {
  readonly shipper: LogShipper;
  close(): Promise<void>;
}

let shipping: Shipping | undefined;

/** A pino destination that pushes each line into the shipper (multistream's `write(line)`). */
export interface ShippingStream {
  write(line: string): void;
}

/**
 * The stream that ships this process's lines, starting the shipper on first use; undefined when
 * DEVICEHUB_LOG_STORE is unset. `own` is where the shipper's own lines go (never shipped: they
 * say the store is away). A bad setting throws, naming it, before anything is started.
 */
export function logShippingStream(
  service: string,
  own: PinoLogger,
  env: Record<string, string | undefined> = process.env,
): ShippingStream | undefined {
  const url = env.DEVICEHUB_LOG_STORE;
  if (url === undefined || url === '') return undefined;
  if (shipping === undefined) {
    const mb = Number(env.DEVICEHUB_LOG_BUFFER_MB || DEFAULT_LOG_BUFFER_MB);
    const store = openLogStore(url, { logger: own });
    const dir = claimBufferDir(env.DEVICEHUB_LOG_BUFFER_DIR || DEFAULT_LOG_BUFFER_DIR, safeName(service));
    const shipper = openLogShipper({
      store,
      dir,
      maxBufferBytes: mb * 1024 * 1024,
      logger: own.child({ component: 'log-shipper' }),
      closeTimeoutMs: CLOSE_MS,
    });
    const close = async () => {
      await shipper[Symbol.asyncDispose]();
      await store[Symbol.asyncDispose]();
      releaseBufferDir(dir);
    };
    shipping = { shipper, close };
    setProcessLogShipper(shipper);
  }
  const { shipper } = shipping;
  return {
    write(line: string) {
      const record = pinoLineToRecord(line, service);
      if (record !== undefined) shipper.push(record);
    },
  };
}

/** The shipper's Prometheus families ('' when the process does not ship), for a /metrics text. */
export function logShippingMetrics(): string {
  const shipper = processLogShipper();
  return shipper === undefined ? '' : logShipperMetricsText(shipper.stats());
}

/**
 * Sends what is queued (for at most 2 s; the rest stays on disk for the next run) and closes the
 * shipper; lines logged after it are not shipped (they still go to stdout or the file).
 */
export async function stopLogShipping(): Promise<void> {
  const current = shipping;
  if (current === undefined) return;
  shipping = undefined;
  setProcessLogShipper(undefined);
  await current.close();
}

function safeName(service: string): string {
  return service.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64) || 'process';
}
