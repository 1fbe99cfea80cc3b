/**
 * The logger DeviceHub's library code writes to: a structured subset of pino's interface,
 * passed in by whoever runs the code (the CLI's processes give pino, JSON lines on stdout).
 *
 * Field names are the same everywhere, so a central store can filter on them:
 * - `nodeId`   the hub node (bound by HubNode to all it logs)
 * - `address`   the actor a line is about (bound by the runtime for each handler call, with the
 *   fields its definition's `logFields` names, e.g. a device id)
 * - `tunnelId` a remote-access tunnel; `shard`, `epoch` placement; `link` a hub-side link;
 *   `component` the part of a gateway; `err` an error (pino serialises it).
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: object): Logger;
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/**
 * The fields a handler's log lines carry: the actor's address, and the fields its definition
 * names for its id.
 */
export function actorLogFields(
  address: string,
  id: string,
  definition: { logFields?(id: string): Readonly<Record<string, string>> },
): Record<string, string> {
  return { address, ...definition.logFields?.(id) };
}
