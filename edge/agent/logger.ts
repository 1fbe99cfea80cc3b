/**
 * The agent's logger: the hub's structured subset of pino (`Logger`, actors/logger.ts — a type
 * only, erased at run time) with a silent default of the agent's own, so that loading the agent
 * loads no hub module (edge/agent/standalone.test.ts checks its module graph).
 */
import type { Logger } from '../../actors/mod.ts';

export type { Logger };

const drop = (): void => {};

/** Drops every line: the agent's and the tunnel executor's logger when none is passed. */
export const silentLogger: Logger = {
  debug: drop,
  info: drop,
  warn: drop,
  error: drop,
  child: () => silentLogger,
};
