/**
 * Test fixture: waits for a common start instant, then loads (creating) the fleet CA of
 * `<base>/0` … `<base>/<count-1>` and prints `{"failures":[…],"certificates":[…]}`: the certificate
 * PEM each folder's load returned, so the test can check every process got the CA the files hold.
 */
import { join } from 'node:path';
import { loadFleetCa } from '../fleet-ca.ts';

const [base, count, startAt] = process.argv.slice(2);
if (base === undefined || count === undefined || startAt === undefined) {
  throw new Error('usage: load-fleet-cas.ts <base folder> <count> <start at, ms since epoch>');
}
while (Date.now() < Number(startAt)) {
  // Spin: the processes must race for the same folders, not arrive one after another.
}
const failures: string[] = [];
const certificates: (string | null)[] = [];
for (let i = 0; i < Number(count); i++) {
  try {
    certificates.push((await loadFleetCa({ dir: join(base, String(i)), create: true })).certificatePem);
  } catch (error) {
    failures.push(String(error));
    certificates.push(null);
  }
}
process.stdout.write(JSON.stringify({ failures, certificates }));
