/** Test fixture (infra/test-race.ts): loads, creating, the fleet CA of each folder; its certificate PEM. */
import { raceOverFolders } from '../../../infra/test-race.ts';
import { loadFleetCa } from '../fleet-ca.ts';

await raceOverFolders(async (dir) => (await loadFleetCa({ dir, create: true })).certificatePem);
