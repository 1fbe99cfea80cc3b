/**
 * The bounded graceful stop of a long-running command (node, link, gateway): on SIGTERM or
 * SIGINT — or when the parent that started it over IPC is gone — it runs its stop steps in order,
 * each named, within `timeoutMs` in all. A stop that does not finish in time (a server it needs is
 * gone, and a step waits for it) is logged with the step it was in, and the process exits 1: a
 * process asked to stop always does. Another SIGINT while stopping exits at once (Ctrl-C twice).
 */
import type { Logger } from 'pino';
import { stopLogShipping } from './log-shipping.ts';

export interface StopStep {
  readonly name: string;
  /** Resolves to `false` when it stopped without finishing its work (said in its own log line). */
  run(): Promise<unknown>;
}

export function stopOnSignals(o: { log: Logger; timeoutMs: number; steps: readonly StopStep[] }): void {
  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    o.log.info({ signal: reason, timeoutMs: o.timeoutMs }, 'stopping');
    let current = '';
    const deadline = setTimeout(() => {
      o.log.error(
        { step: current, timeoutMs: o.timeoutMs },
        `stop did not finish within ${o.timeoutMs} ms (still ${current}); exiting`,
      );
      process.exit(1);
    }, o.timeoutMs);
    let complete = true;
    // Last: the lines the steps logged are shipped too (a no-op when the process does not ship).
    const steps = [...o.steps, { name: 'shipping the last log lines', run: stopLogShipping }];
    for (const step of steps) {
      current = step.name;
      try {
        if ((await step.run()) === false) complete = false;
      } catch (error) {
        complete = false;
        o.log.warn({ err: error, step: step.name }, 'a stop step failed; going on');
      }
    }
    clearTimeout(deadline);
    process.exit(complete ? 0 : 1);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => {
    if (stopping) {
      o.log.warn('second SIGINT: exiting at once');
      process.exit(130);
    }
    void stop('SIGINT');
  });
  // Started by a parent over IPC (the demo, `devicehub cluster`, tests): stop when it is gone.
  if (process.send !== undefined) process.once('disconnect', () => void stop('parent gone'));
}
