/**
 * A/B slots: two directories under `<dataDir>/slots/{a,b}` standing in for the RV1126's
 * `boot_a/system_a` and `boot_b/system_b` (Rockchip's updateEngine flow), and `current`, a symbolic
 * link naming the slot that runs. A switch writes a new link beside it and renames it over
 * `current` — one atomic rename, so a power cut leaves either slot named, never neither. Each slot
 * holds a package per folder (`<slot>/<name>/`) and `versions.json` ({ name: version }).
 */
import { cp, mkdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDiskFull, UpdateError } from './errors.ts';

export type SlotName = 'a' | 'b';

export const otherSlot = (slot: SlotName): SlotName => (slot === 'a' ? 'b' : 'a');

export class Slots {
  /** `<dataDir>/slots`. */
  readonly root: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'slots');
  }

  dir(slot: SlotName): string {
    return join(this.root, slot);
  }

  /** The slot `current` names; the first call makes slot a the current one. */
  async current(): Promise<SlotName> {
    const target = await readlink(join(this.root, 'current')).catch(() => undefined);
    if (target === 'a' || target === 'b') return target;
    await mkdir(this.dir('a'), { recursive: true });
    await this.switchTo('a');
    return 'a';
  }

  /** Names `slot` as current: a new link renamed over `current` (atomic). */
  async switchTo(slot: SlotName): Promise<void> {
    const next = join(this.root, `current.${process.pid}.tmp`);
    await rm(next, { force: true });
    await symlink(slot, next);
    await rename(next, join(this.root, 'current'));
  }

  /** What each package in `slot` is at ({} for an empty slot). */
  async versions(slot: SlotName): Promise<Record<string, string>> {
    const text = await readFile(join(this.dir(slot), 'versions.json'), 'utf8').catch(() => '{}');
    return JSON.parse(text) as Record<string, string>;
  }

  async setVersion(slot: SlotName, name: string, version: string): Promise<void> {
    const versions = { ...(await this.versions(slot)), [name]: version };
    const file = join(this.dir(slot), 'versions.json');
    await writeFile(`${file}.tmp`, JSON.stringify(versions));
    await rename(`${file}.tmp`, file);
  }

  /**
   * Makes `to` a copy of `from` (what is not updated stays as it runs), emptied first. A full disk
   * is an UpdateError DISK_FULL, the half-made copy removed.
   */
  async prepare(from: SlotName, to: SlotName): Promise<void> {
    await this.clear(to);
    try {
      await cp(this.dir(from), this.dir(to), { recursive: true, verbatimSymlinks: true });
    } catch (error) {
      await this.clear(to);
      if (isDiskFull(error))
        throw new UpdateError('DISK_FULL', `no space left copying slot ${from} to slot ${to}`, {
          cause: error,
        });
      throw new UpdateError('INSTALL_FAILED', `copying slot ${from} to slot ${to} failed: ${String(error)}`, {
        cause: error,
      });
    }
  }

  /** Empties a slot that does not run (after a failed or interrupted install). */
  async clear(slot: SlotName): Promise<void> {
    await rm(this.dir(slot), { recursive: true, force: true });
    await mkdir(this.dir(slot), { recursive: true });
  }
}
