/**
 * The `clips` bench's accounts of a run, from what it sent (every alarm, with the times the actor
 * stamped), the `clips` rows in PostgreSQL, the Ezviz stand-in's counters and the object store:
 * clips stored, duplicates, missing, the Ezviz call rate, alarm end → stored latency and the
 * throughput while the storm's clips were being fetched.
 */
import type postgres from 'postgres';
import { clipIdOf } from '../edge/mod.ts';
import { CLIP_KINDS, type SentAlarm } from './clips-alarms.ts';
import { quantile } from './quantile.ts';

export interface ClipRow {
  readonly id: string;
  readonly edgeId: string;
  readonly alarm: string;
  readonly status: string;
  readonly code: string | null;
  readonly reason: string | null;
  readonly alarmEnd: number | null;
  /** When it was stored, or when it last changed (a failed row). */
  readonly settledAt: number | null;
  readonly worker: string | null;
}

/** Every clip row but the canary's. */
export async function readClipRows(sql: postgres.Sql, canaryEdge: string): Promise<ClipRow[]> {
  const rows = await sql<
    {
      id: string;
      edge_id: string;
      alarm: string;
      status: string;
      code: string | null;
      reason: string | null;
      alarm_end: Date | null;
      stored_at: Date | null;
      updated_at: Date;
      worker: string | null;
    }[]
  >`select id, edge_id, alarm, status, code, reason, alarm_end, stored_at, updated_at, worker
      from clips where edge_id <> ${canaryEdge}`;
  return rows.map((r) => ({
    id: r.id,
    edgeId: r.edge_id,
    alarm: r.alarm,
    status: r.status,
    code: r.code,
    reason: r.reason,
    alarmEnd: r.alarm_end?.getTime() ?? null,
    settledAt:
      r.status === 'stored'
        ? (r.stored_at?.getTime() ?? null)
        : r.status === 'failed'
          ? r.updated_at.getTime()
          : null,
    worker: r.worker,
  }));
}

/** Rows by status, for the progress line. */
export async function countByStatus(sql: postgres.Sql, canaryEdge: string): Promise<Record<string, number>> {
  const rows = await sql<{ status: string; n: number }[]>`
    select status, count(*)::int as n from clips where edge_id <> ${canaryEdge} group by status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

export interface RunTally {
  readonly alarms: number;
  readonly alarmsWithClip: number;
  readonly clipsStored: number;
  readonly clipsFailed: number;
  /** Failed because of a fault the bench had the stand-in make (an unknown camera), with a reason. */
  readonly failedAsCaused: number;
  readonly duplicates: number;
  readonly duplicateIds: readonly string[];
  /** Clips Ezviz served in full more than once (a worker killed after its download re-fetches). */
  readonly refetched: number;
  readonly refetchedIds: readonly string[];
  readonly missing: number;
  readonly missingIds: readonly string[];
  /** Clip rows for alarms of kinds that get none. */
  readonly unwanted: number;
  readonly p95AlarmEndToStoredMs: number;
  readonly p50AlarmEndToStoredMs: number;
  /** Clips settled per second from the storm's first clip settled to its last. */
  readonly stormThroughputPerSecond: number;
  readonly stormWindowSeconds: number;
  /** Failure codes and how many. */
  readonly failedCodes: Readonly<Record<string, number>>;
}

export function tallyRun(r: {
  alarms: readonly SentAlarm[];
  rows: readonly ClipRow[];
  /** Edges whose camera the stand-in was told not to know. */
  unknownCameraEdges: ReadonlySet<string>;
  /** Clip ids (fileIds) the stand-in made more than one save task for. */
  tasksTwice: ReadonlySet<string>;
  /** ... served in full more than once. */
  fetchedTwice: ReadonlySet<string>;
  /** ... whose video was put into the object store more than once. */
  storedTwice: ReadonlySet<string>;
}): RunTally {
  const clipKinds = new Set<string>(CLIP_KINDS);
  const byId = new Map(r.rows.map((row) => [row.id, row]));
  const wanted = new Map<string, SentAlarm>();
  for (const a of r.alarms)
    if (clipKinds.has(a.alarm) && a.sentStartAt !== undefined && a.sentEndAt !== undefined)
      wanted.set(clipIdOf(a.edgeId, a.alarm, a.sentStartAt), a);
  const missingIds: string[] = [];
  let stored = 0;
  let failed = 0;
  let failedAsCaused = 0;
  const failedCodes: Record<string, number> = {};
  const latency: number[] = [];
  for (const [id, alarm] of wanted) {
    const row = byId.get(id);
    if (row?.status === 'stored') {
      stored++;
      if (row.settledAt !== null) latency.push(row.settledAt - (row.alarmEnd ?? alarm.sentEndAt!));
      continue;
    }
    if (row?.status === 'failed') {
      failed++;
      failedCodes[row.code ?? '?'] = (failedCodes[row.code ?? '?'] ?? 0) + 1;
      if (r.unknownCameraEdges.has(row.edgeId) && (row.reason ?? '') !== '') {
        failedAsCaused++;
        continue;
      }
    }
    missingIds.push(id);
  }
  const unwanted = r.rows.filter((row) => !wanted.has(row.id)).length;
  // A duplicate: a second clip asked of Ezviz, or a clip stored twice.
  const duplicateIds = [...new Set([...r.tasksTwice, ...r.storedTwice])];
  const storm = stormWindow(r.rows, wanted);
  return {
    alarms: r.alarms.length,
    alarmsWithClip: wanted.size,
    clipsStored: stored,
    clipsFailed: failed,
    failedAsCaused,
    duplicates: duplicateIds.length,
    duplicateIds: duplicateIds.slice(0, 10),
    refetched: r.fetchedTwice.size,
    refetchedIds: [...r.fetchedTwice].slice(0, 10),
    missing: missingIds.length,
    missingIds: missingIds.slice(0, 10),
    unwanted,
    // NaN (null in the JSON), not 0, when no clip was stored.
    p95AlarmEndToStoredMs: latency.length === 0 ? Number.NaN : quantile(latency, 0.95),
    p50AlarmEndToStoredMs: latency.length === 0 ? Number.NaN : quantile(latency, 0.5),
    stormThroughputPerSecond: storm.perSecond,
    stormWindowSeconds: storm.seconds,
    failedCodes,
  };
}

/**
 * The storm's drain rate: clips settled per second from the storm's first clip settled to its
 * last (every clip settled in between counts, steady ones too: they took the same workers' time).
 * From the first settled, not the first alarm end: the first clip's own latency (the task's time,
 * the first poll) is the same for any number of workers and says nothing of their throughput.
 */
function stormWindow(
  rows: readonly ClipRow[],
  wanted: ReadonlyMap<string, SentAlarm>,
): { perSecond: number; seconds: number } {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const settled = [...wanted].filter(([, a]) => a.storm).map(([id]) => byId.get(id)?.settledAt ?? null);
  if (settled.length < 2 || settled.some((t) => t === null))
    return { perSecond: Number.NaN, seconds: Number.NaN };
  const from = Math.min(...(settled as number[]));
  const to = Math.max(...(settled as number[]));
  const inside = rows.filter((row) => row.settledAt !== null && row.settledAt > from && row.settledAt <= to);
  const seconds = Math.max(0.001, (to - from) / 1000);
  return { perSecond: inside.length / seconds, seconds };
}
