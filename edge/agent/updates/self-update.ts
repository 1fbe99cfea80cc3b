/**
 * The agent updating itself (package `devicehub-agent`): the new bundle is installed into the other
 * slot like any package, then — before `current` switches — `<slots>/boot-trial` is written with
 * the slot it comes from. The agent stops; systemd starts it again from the new `current`
 * (deploy/agent/devicehub-agent.service). devicehub-agent-boot.sh, run before every start, marks
 * the first try and, if the trial is still open at the next start, switches `current` back: a new
 * agent that crashes, hangs or never confirms cannot keep the box. The new agent confirms (removes
 * the trial) only once it passed its health gate; failing the gate, it switches back itself and
 * stops, and the old agent, started again, reports rolled_back.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SlotName } from './slots.ts';

/** The package name of the agent itself. */
export const SELF_PACKAGE = 'devicehub-agent';

/** Opens a boot trial: `from` is where the supervisor goes back to if it is not confirmed. */
export async function startBootTrial(slotsRoot: string, from: SlotName): Promise<void> {
  await rm(join(slotsRoot, 'boot-trial.started'), { force: true });
  await writeFile(join(slotsRoot, 'boot-trial'), from);
}

/** Closes the boot trial (healthy, or the agent already went back itself). */
export async function confirmBoot(slotsRoot: string): Promise<void> {
  await rm(join(slotsRoot, 'boot-trial'), { force: true });
  await rm(join(slotsRoot, 'boot-trial.started'), { force: true });
}
