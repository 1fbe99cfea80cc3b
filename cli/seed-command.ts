/**
 * `devicehub seed alarms --rows N --months M [--edges E]`: a synthetic alarm history for
 * benchmarks (gateway/alarms/seed.ts) in the gateway's database — PostgreSQL at DATABASE_URL,
 * else embedded PGlite in DH_DATA_DIR — with a line per month as it goes. Idempotent: a month
 * seeded already is skipped, so a second run adds nothing.
 */
import { parseArgs } from 'node:util';

export const seedHelp = `devicehub seed alarms [options]

  --rows N             alarm rows in all (default 10000000), spread evenly over the months
  --months M           the M months that end with this one, one partition each (default 12)
  --edges E            edges the alarms belong to (default 50000; ids seed-e000000…, ~25 a
                       building seed-b0000…, added to the edges table)
  --concurrency C      months seeded at once (default 2)
  --database-url URL   PostgreSQL (env DATABASE_URL); without it, embedded PGlite in --data-dir
  --data-dir DIR       (env DH_DATA_DIR; default ./.devicehub/pglite)`;

export async function seedCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rows: { type: 'string', default: '10000000' },
      months: { type: 'string', default: '12' },
      edges: { type: 'string', default: '50000' },
      concurrency: { type: 'string', default: '2' },
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  if (positionals.length !== 1 || positionals[0] !== 'alarms')
    throw Object.assign(new Error('devicehub seed: what to seed? `devicehub seed alarms` (the only kind)'), {
      code: 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL',
    });
  const number = (name: 'rows' | 'months' | 'edges' | 'concurrency') => {
    const n = Number(values[name]);
    if (!Number.isSafeInteger(n) || n < 1)
      throw Object.assign(
        new Error(`devicehub seed: --${name} must be a positive integer, not ${values[name]}`),
        {
          code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
        },
      );
    return n;
  };
  const [rows, months, edges, concurrency] = [
    number('rows'),
    number('months'),
    number('edges'),
    number('concurrency'),
  ];
  const { openDatabase } = await import('../gateway/db/database.ts');
  const { ensureAlarmPartitions } = await import('../gateway/db/alarm-partitions.ts');
  const { seedAlarmHistory } = await import('../gateway/alarms/seed.ts');
  const url = values['database-url'] ?? process.env.DATABASE_URL;
  await using database = await openDatabase(
    url ? { url } : { dataDir: values['data-dir'] ?? process.env.DH_DATA_DIR ?? './.devicehub/pglite' },
  );
  process.stderr.write(
    `seeding ${rows.toLocaleString('en')} alarms over ${months} months, ${edges.toLocaleString('en')} edges (${database.driver})\n`,
  );
  const result = await seedAlarmHistory(database.db, {
    rows,
    months,
    edges,
    concurrency,
    onProgress: (p) =>
      process.stderr.write(
        `  ${p.done}/${p.total} ${p.partition}: ${p.skipped ? 'seeded already, skipped' : `${p.rows.toLocaleString('en')} rows in ${(p.ms / 1000).toFixed(1)} s`}\n`,
      ),
  });
  // The months ahead the gateway keeps (the seeded ones replaced this month's if it was empty).
  await ensureAlarmPartitions(database.db);
  process.stdout.write(
    `${JSON.stringify({ rows: result.rows, seeded: result.seeded.length, skipped: result.skipped.length, seconds: Math.round(result.ms / 100) / 10 })}\n`,
  );
}
