/**
 * Waiting for a PostgreSQL the suite started (the primary, infra/postgres.ts; a replica,
 * infra/postgres-replica.ts) to take connections: its port answers a moment before it does ("the
 * database system is starting up"), a standby only once it is consistent.
 */
import type postgres from 'postgres';
import { waitFor } from './wait-for.ts';

/**
 * Until a fresh connection to `url` answers and `ready` says yes of it (30 s at most); fails at
 * once when `exited` aborts (the server's `exitSignal`: it is gone).
 */
export async function untilPostgresReady(
  url: string,
  o: { ready: (sql: postgres.Sql) => Promise<boolean>; message: string; exited: AbortSignal },
): Promise<void> {
  const { default: connect } = await import('postgres');
  await waitFor(
    async () => {
      const sql = connect(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
      try {
        return await o.ready(sql);
      } catch {
        return false;
      } finally {
        await sql.end();
      }
    },
    { timeoutMs: 30_000, intervalMs: 50, message: o.message, signal: o.exited },
  );
}
