/** A Logger for tests that keeps its lines, to check what was (and was not) logged, and when. */
import type { Logger } from '../logger.ts';

/** One logged line: the object's fields, the level, the message, and `at` (performance.now()). */
export type Line = Record<string, unknown> & { level: string; msg?: string; at: number };

export function recordingLogger(lines: Line[]): Logger {
  const at = (level: string) => (obj: object, msg?: string) =>
    void lines.push({ ...obj, level, msg, at: performance.now() });
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}
