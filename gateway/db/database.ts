/**
 * The gateway's database: PostgreSQL through `postgres` when a URL is given, otherwise PGlite
 * (PostgreSQL compiled to WebAssembly, embedded; in a folder, or in memory) so `npm start` needs
 * no database server. Either way the same drizzle schema and the same SQL migrations, applied in
 * order once (`schema_migrations`); a read replica is opened `readOnly` (no migrations).
 * PostgreSQL is spoken without named prepared statements, so a URL may name PgBouncer in
 * transaction pooling (1.18 keeps no prepared statements across transactions); `?prepare=true`
 * on a URL that names PostgreSQL itself turns them on (docs/decisions/044).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { openMemoryPglite, saveTemplate, templateFile } from './pglite-template.ts';
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
  /** An in-memory PGlite made by initdb: dumped as the template once migrated. */
  let templateWanted: PGlite | undefined;
  if (options.url) {
    const prepare = /[?&]prepare=true(&|$)/.test(options.url);
    const sql = postgres(options.url, { max: 10, prepare, onnotice: () => {} });
    database = {
      db: drizzlePostgres(sql, { schema }) as unknown as Db,
      driver: 'postgres',
      execInTransaction: async (text) => {
        await sql.begin((tx) => tx.unsafe(text));
      },
      // Queries still running get 5 s, then their connections are closed: a stuck query must not
      // hold a gateway's shutdown (or a test's teardown) forever.
      close: () => sql.end({ timeout: 5 }),
      [Symbol.asyncDispose]: () => sql.end({ timeout: 5 }),
    };
  } else {
    // In memory (the tests' databases): from the migrated template when there is one.
    const memory = options.dataDir === undefined && !options.readOnly;
    const opened = memory
      ? await openMemoryPglite(templateFile(MIGRATIONS))
      : { client: new PGlite(options.dataDir), fromTemplate: false };
    const client = opened.client;
    await client.waitReady;
    if (memory && !opened.fromTemplate) templateWanted = client;
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
  if (templateWanted !== undefined) {
    // A cache, no more: a template that cannot be written leaves the next database to initdb.
    await saveTemplate(templateWanted, templateFile(MIGRATIONS)).catch(() => {});
  }
  return database;
}

const MIGRATIONS = new URL('./migrations/', import.meta.url);
/** The advisory lock key the gateways' migrations take (any constant of our own). */
const MIGRATION_LOCK = 0x6468_6d67;

/** Applies the migrations not applied yet, each in a transaction, in file-name order. */
async function migrate(database: Database): Promise<void> {
  // `create table if not exists` is not safe against itself: two gateway workers starting on a
  // fresh PostgreSQL at once both create the table and one fails on pg_type's unique index (a CI
  // run saw it). A transaction-scoped advisory lock makes the second wait. PGlite is one process.
  const serialized =
    database.driver === 'postgres' ? `select pg_advisory_xact_lock(${MIGRATION_LOCK});\n` : '';
  await database.execInTransaction(
    `${serialized}create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())`,
  );
  const files = readdirSync(MIGRATIONS)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  for (const file of files) {
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
