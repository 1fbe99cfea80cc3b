/**
 * Key files that several processes may create at once (gateways of a cluster starting together on
 * one folder): the text is written whole under a private name and linked into place only if the
 * file is absent. Exactly one process's file wins, and no reader ever sees one created but not
 * yet filled.
 */

import { randomBytes } from 'node:crypto';
import { chmod, link, rm, writeFile } from 'node:fs/promises';

/** Creates `file` with `text` (and `mode`) unless it exists; false when another's was there first. */
export async function createFileOnce(file: string, text: string, mode = 0o600): Promise<boolean> {
  const draft = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(draft, text, { mode, flag: 'wx' });
  try {
    await chmod(draft, mode); // the umask may have taken bits away
    await link(draft, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(draft, { force: true });
  }
}
