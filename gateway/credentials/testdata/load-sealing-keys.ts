/**
 * Test fixture (infra/test-race.ts): loads, creating, the sealing key of each folder; "probe"
 * sealed with it (the folder's number as context), so the test can check every process used the
 * key that the file holds.
 */
import { raceOverFolders } from '../../../infra/test-race.ts';
import { loadSealingKey } from '../sealing.ts';

await raceOverFolders(async (dir, i) =>
  (await loadSealingKey({ dir, create: true })).seal('probe', String(i)),
);
