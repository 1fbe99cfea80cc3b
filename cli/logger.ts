/**
 * The log of a DeviceHub process: pino, one JSON object per line — on stdout by default, so that
 * the container runtime (or systemd) keeps it and a shipper sends it on (docs/operations.md, Logs);
 * or appended to a file, for the processes `npm start` and `npm run cluster` run on one machine
 * (`logFile`: ./.devicehub/logs/<process>.log, ./.devicehub/cluster/logs/<process>.log).
 * Every line has `service` (node, link, gateway, …), `host` and `pid`; library code adds the
 * shared fields (nodeId, edgeId, tunnelId, … see actors/logger.ts). Level from DH_LOG_LEVEL.
 * With DEVICEHUB_LOG_STORE set, every line also goes to the log store (cli/log-shipping.ts).
 */
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { type Logger, pino } from 'pino';
import { logShippingStream } from './log-shipping.ts';

/**
 * Fields that may hold a secret, at the top of a line or one level down (`headers.authorization`
 * two): pino writes "[redacted]" instead. Library code logs ids, never secrets; this is the net
 * under it (a request's headers, an options object logged whole).
 */
export const REDACTED_FIELDS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'headers.cookie',
  '*.headers.cookie',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'privateKey',
  '*.privateKey',
];

export interface ProcessLoggerOptions {
  /** Append to this file (its folder is created) instead of writing to stdout. */
  readonly file?: string;
}

export function processLogger(
  service: string,
  bindings: Record<string, unknown> = {},
  options: ProcessLoggerOptions = {},
): Logger {
  const settings = {
    level: process.env.DH_LOG_LEVEL ?? 'info',
    base: { service, host: hostname(), pid: process.pid, ...bindings },
    redact: { paths: REDACTED_FIELDS, censor: '[redacted]' },
  };
  // Synchronous: a line is on disk before the next statement, so a crash or process.exit()
  // loses none (these logs are a few lines a second at most).
  const file =
    options.file === undefined
      ? undefined
      : pino.destination({ dest: options.file, mkdir: true, sync: true });
  if (process.env.DEVICEHUB_LOG_STORE === undefined || process.env.DEVICEHUB_LOG_STORE === '')
    return pino(settings, file);
  // Shipping besides: every line also goes to the log store (cli/log-shipping.ts), never waiting.
  const local = file ?? pino.destination({ dest: process.stdout.fd || 1, sync: false });
  const ship = logShippingStream(service, pino(settings, local));
  if (ship === undefined) return pino(settings, local);
  return pino(
    settings,
    pino.multistream([
      { level: 'trace', stream: local },
      { level: 'trace', stream: ship },
    ]),
  );
}

/** Where the log of `process` goes in the folder `dir` (relative to the working directory). */
export function logFile(dir: string, process: string): string {
  return join(resolve(dir), `${process}.log`);
}
