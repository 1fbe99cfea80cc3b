/**
 * A logger that drops everything: the log store's and the shipper's default when no logger is
 * given. Not actors' silentLogger (only the `Logger` type comes from there, erased at run time),
 * so that loading logs/ loads no hub module.
 */
import type { Logger } from '../actors/logger.ts';

export const quietLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => quietLogger,
};
