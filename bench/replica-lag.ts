/**
 * The read replica's lag under write load, as the gateway's read router sees it (decision 044):
 * PostgreSQL with a streaming replica and PgBouncer (infra/postgres.ts), writers inserting audit
 * rows through PgBouncer for `--seconds`, the router's probe (a heartbeat row every 50 ms, read
 * back on the replica) sampled throughout. Prints one JSON line.
 *
 *   node --import tsx bench/replica-lag.ts [--seconds 10] [--writers 4]
 */
import { parseArgs } from 'node:util';
import { ReplicaProbe } from '../gateway/db/replica-probe.ts';
import { auditLog } from '../gateway/db/schema.ts';
import { openDatabase } from '../gateway/mod.ts';
import { startPostgres } from '../infra/mod.ts';
import { quantile } from './quantile.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string' }, writers: { type: 'string' } } });
const seconds = Number(values.seconds ?? 10);
const writers = Number(values.writers ?? 4);
if (!(seconds > 0 && seconds <= 600)) throw new RangeError(`--seconds must be 1..600, got ${values.seconds}`);
if (!(Number.isInteger(writers) && writers >= 1 && writers <= 64))
  throw new RangeError(`--writers must be 1..64, got ${values.writers}`);

await using pg = await startPostgres({ replica: true, bouncer: true });
const urls = pg.urlsOf('postgres');
await using primary = await openDatabase({ url: urls.bouncerUrl! });
await using replica = await openDatabase({ url: urls.replicaUrl!, readOnly: true });
await pg.waitForReplica();
await using probe = await new ReplicaProbe({ primary: primary.db, replica: replica.db, pollMs: 50 }).start();

const lags: number[] = [];
let writes = 0;
const deadline = Date.now() + seconds * 1000;
const sampler = setInterval(() => {
  const { up, lagMs } = probe.state;
  if (up && lagMs !== undefined) lags.push(lagMs);
}, 50);
await Promise.all(
  Array.from({ length: writers }, async (_, w) => {
    while (Date.now() < deadline) {
      await primary.db
        .insert(auditLog)
        .values({ actor: `bench:${w}`, action: 'bench', target: `edge/${writes}`, details: { w } });
      writes++;
    }
  }),
);
clearInterval(sampler);
const sorted = lags.sort((a, b) => a - b);
const round = (x: number | undefined) => (x === undefined ? null : Math.round(x * 10) / 10);
process.stdout.write(
  `${JSON.stringify({
    seconds,
    writers,
    writesPerSec: Math.round(writes / seconds),
    samples: sorted.length,
    lagMsP50: round(quantile(sorted, 0.5)),
    lagMsP99: round(quantile(sorted, 0.99)),
    lagMsMax: round(probe.maxLagMs),
  })}\n`,
);
