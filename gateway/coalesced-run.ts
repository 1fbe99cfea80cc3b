/**
 * A pass that never overlaps itself (the policy publisher's write, the alert rule applier's
 * look): a call while one runs makes one more run after it, however many calls came meanwhile,
 * so a change said during a run is seen by the next one. The pass must not throw: it logs its
 * own failures (a thrown error rejects the callers that waited on that run).
 */
export interface CoalescedRun {
  /** Runs the pass now, or once more after the run in progress; resolves when it is done. */
  (): Promise<void>;
  /** Resolves when no run is in progress (at once when none is). */
  idle(): Promise<void>;
}

export function coalescedRun(pass: () => Promise<void>): CoalescedRun {
  let running: Promise<void> | undefined;
  let again = false;
  const run = (): Promise<void> => {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await pass();
      } while (again);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  return Object.assign(run, { idle: async () => void (await running) });
}
