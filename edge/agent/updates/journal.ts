/**
 * The update job's journal, `<dataDir>/updates/job.json`: which rollout, its targets, the phase it
 * reached and the slots it moves between. Written to a temporary file, flushed and renamed over the
 * old one, so a restart (kill -9, power cut) finds the last phase whole. What a restart does with
 * each phase is the Updater's (updater.ts): downloading/downloaded/verified resume, installing rolls
 * back, switched goes on with the health gate, done reports nothing again.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { UpdateCommandArgs } from '../../protocol/mod.ts';
import type { SlotName } from './slots.ts';

export type JobPhase = 'downloading' | 'verified' | 'installing' | 'switched' | 'done';

export interface Job {
  readonly args: UpdateCommandArgs;
  readonly phase: JobPhase;
  /** The slot that ran when the job began, and the one it installs into. */
  readonly from: SlotName;
  readonly to: SlotName;
  /** When the health gate ends (ms since the epoch), set at the switch. */
  readonly deadline?: number;
  /** When the slot switched (ms): programs must feed the local input after it. */
  readonly switchedAt?: number;
  /** Which programs fed the local input before the switch (they must again). */
  readonly feeding?: readonly string[];
  /** The final state and its reason, once done. */
  readonly outcome?: { readonly state: 'healthy' | 'rolled_back' | 'failed'; readonly reason?: string };
}

export class Journal {
  readonly dir: string;
  readonly #file: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'updates');
    this.#file = join(this.dir, 'job.json');
  }

  async read(): Promise<Job | undefined> {
    const text = await readFile(this.#file, 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as Job;
    } catch {
      return undefined; // never written whole (rename is atomic), so only a foreign file: start over
    }
  }

  /** Writes the job and flushes it to the disk before the rename makes it the journal. */
  async write(job: Job): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.#file}.tmp`;
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(JSON.stringify(job));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.#file);
  }
}
