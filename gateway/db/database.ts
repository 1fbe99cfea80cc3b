/**
 * The gateway's database: PostgreSQL through `postgres` when a URL is given, otherwise PGlite
 * (PostgreSQL compiled to WebAssembly, embedded; in a folder, or in memory) so `npm start` needs
 * no database server. Either way the same drizzle schema and the same SQL migrations, applied in
 * order once (`schema_migrations`); a read replica is opened `readOnly` (no migrations).
 * PostgreSQL is spoken without named prepared statements, so a URL may name PgBouncer in
 * transaction pooling (1.18 keeps no prepared statements across transactions); `?prepare=true`
 * on a URL that names PostgreSQL itself turns them on (docs/decisions/044).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database extends AsyncDisposable {
  readonly db: Db;
  /** `postgres` or `pglite`. */
  readonly driver: 'postgres' | 'pglite';
  /** Runs SQL text with several statements (migrations), in one transaction. */
  execInTransaction(sql: string): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** `postgres://…` for PostgreSQL; otherwise PGlite in `dataDir` (in memory without one). */
  readonly url?: string;
  readonly dataDir?: string;
  /** A read replica: no migrations (it replays the primary's); writes fail. */
  readonly readOnly?: boolean;
}

export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  let database: Database;
  if (options.url) {
    const prepare = /[?&]prepare=true(&|$)/.test(options.url);
    const sql = postgres(options.url, { max: 10, prepare, onnotice: () => {} });
    database = {
      db: drizzlePostgres(sql, { schema }) as unknown as Db,
      driver: 'postgres',
      execInTransaction: async (text) => {
        await sql.begin((tx) => tx.unsafe(text));
      },
      close: () => sql.end(),
      [Symbol.asyncDispose]: () => sql.end(),
    };
  } else {
    // In memory: a copy of a database with every migration applied (PGlite's data folder as a
    // tar, made once per set of migrations and shared through the temp folder), not initdb and
    // every migration again: a test's fresh database opens in a third of the time.
    const client =
      options.dataDir === undefined
        ? new PGlite({ loadDataDir: await migratedTemplate() })
        : new PGlite(options.dataDir);
    await client.waitReady;
    database = {
      db: drizzlePglite(client, { schema }) as unknown as Db,
      driver: 'pglite',
      execInTransaction: async (text) => {
        await client.transaction((tx) => tx.exec(text));
      },
      close: () => client.close(),
      [Symbol.asyncDispose]: () => client.close(),
    };
  }
  if (!options.readOnly) await migrate(database);
  return database;
}

const MIGRATIONS = new URL('./migrations/', import.meta.url);

/** PGlite's package.json: a template is PGlite's data folder, of this PGlite version only. */
const PGLITE_VERSION = readFileSync(new URL('../package.json', import.meta.resolve('@electric-sql/pglite')));
let template: Promise<Blob> | undefined;

/**
 * An in-memory PGlite with every migration applied, as its data folder's tar: read from
 * `<tmpdir>/devicehub-pglite/<hash of the migrations>.tar` when a process made it already, else
 * made here (initdb, the migrations, a dump) and written there atomically for the next process.
 */
function migratedTemplate(): Promise<Blob> {
  template ??= (async () => {
    const hash = createHash('sha256').update(PGLITE_VERSION);
    for (const file of migrationFiles()) hash.update(file).update(readFileSync(new URL(file, MIGRATIONS)));
    const dir = join(tmpdir(), 'devicehub-pglite');
    const path = join(dir, `${hash.digest('hex').slice(0, 32)}.tar`);
    if (existsSync(path)) return new Blob([readFileSync(path)]);
    const client = new PGlite();
    await client.waitReady;
    try {
      await migrate({
        db: undefined as unknown as Db,
        driver: 'pglite',
        execInTransaction: async (text) => {
          await client.transaction((tx) => tx.exec(text));
        },
        close: () => client.close(),
        [Symbol.asyncDispose]: () => client.close(),
      });
      const dump = await client.dumpDataDir('none');
      mkdirSync(dir, { recursive: true });
      const part = `${path}.${process.pid}.part`;
      writeFileSync(part, Buffer.from(await dump.arrayBuffer()));
      renameSync(part, path);
      return dump;
    } finally {
      await client.close();
    }
  })();
  return template;
}

function migrationFiles(): string[] {
  return readdirSync(MIGRATIONS)
    .filter((f) => f.endsWith('.sql'))
    .sort();
}

/** Applies the migrations not applied yet, each in a transaction, in file-name order. */
async function migrate(database: Database): Promise<void> {
  await database.execInTransaction(
    'create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())',
  );
  for (const file of migrationFiles()) {
    const name = file.replace(/'/g, '');
    const text = readFileSync(new URL(file, MIGRATIONS), 'utf8');
    // Applied and recorded together, or neither; a second gateway migrating at once waits on the lock.
    await database.execInTransaction(
      `lock table schema_migrations in exclusive mode;
       do $$ begin
         if not exists (select 1 from schema_migrations where name = '${name}') then
           execute ${dollarQuote(text)};
           insert into schema_migrations (name) values ('${name}');
         end if;
       end $$;`,
    );
  }
}

/** Quotes SQL text as a dollar-quoted literal that cannot end early. */
function dollarQuote(text: string): string {
  let tag = 'm';
  while (text.includes(`$${tag}$`)) tag += 'm';
  return `$${tag}$${text}$${tag}$`;
}
