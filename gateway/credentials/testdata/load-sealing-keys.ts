/**
 * Test fixture: waits for a common start instant, then loads (creating) the sealing key of
 * `<base>/0` … `<base>/<count-1>` and prints `{"failures":[…],"sealed":[…]}`: each folder's key
 * sealing "probe" with the folder's number as context, so the test can check every process used
 * the key that the file holds.
 */
import { join } from 'node:path';
import { loadSealingKey } from '../sealing.ts';

const [base, count, startAt] = process.argv.slice(2);
if (base === undefined || count === undefined || startAt === undefined) {
  throw new Error('usage: load-sealing-keys.ts <base folder> <count> <start at, ms since epoch>');
}
while (Date.now() < Number(startAt)) {
  // Spin: the processes must race for the same folders, not arrive one after another.
}
const failures: string[] = [];
const sealed: (string | null)[] = [];
for (let i = 0; i < Number(count); i++) {
  try {
    sealed.push(
      (await loadSealingKey({ dir: join(base, String(i)), create: true })).seal('probe', String(i)),
    );
  } catch (error) {
    failures.push(String(error));
    sealed.push(null);
  }
}
process.stdout.write(JSON.stringify({ failures, sealed }));
