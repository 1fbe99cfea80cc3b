/** Where the demo's processes and parts write their logs: one pino JSON-lines file each, appended to. */

import { logFile, processLogger } from './logger.ts';

export const LOG_DIR = '.devicehub/logs';

/** The logger of one part of the demo, writing into LOG_DIR/<name>.log. */
export const demoLogger = (name: string) => processLogger(name, {}, { file: logFile(LOG_DIR, name) });
