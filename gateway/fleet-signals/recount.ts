/**
 * The fleet's presence per building, recounted: the registered edges with their building (the
 * `building` label, else the group, else `none`: the gateway's fleet view, FleetView.edgeBuildings)
 * against the presence hash the outbox sink keeps (edge id → 1|0). Registered edges the hash lacks
 * (a cluster from before the hash, an entry dropped) are looked up once in their actor's
 * checkpoint and written with HSETNX, so an event the sink wrote meanwhile wins; fields of edges no
 * longer registered are deleted (an edge registered so recently that the view has not reloaded
 * yet loses its field, and the next recount takes it back from its checkpoint). The counts are
 * written as one small JSON string that every gateway's /metrics reads: no scrape scans the fleet.
 */
import { forEachCheckpointPage } from '../../actors/mod.ts';
import type { Bus } from '../../bus/mod.ts';
import { execOrThrow } from '../../bus/mod.ts';

/** Buildings named in the series; the smallest past this are summed under `other` (bounded series). */
export const MAX_BUILDINGS = 2000;

/** Edges an edge list is read in (one pipeline each). */
const PAGE = 500;

export interface BuildingCounts {
  online: number;
  offline: number;
  /** Registered, never heard from (no actor state): not installed yet, or never connected. */
  never: number;
}

export interface FleetCounts {
  /** When the recount finished (ms). */
  readonly at: number;
  readonly buildings: Readonly<Record<string, BuildingCounts>>;
}

/** What one recount did besides counting (for its log line and the tests). */
export interface RecountResult {
  readonly counts: FleetCounts;
  /** Edges the presence hash lacked and whose actor checkpoint said online or offline. */
  readonly bootstrapped: number;
  /** Presence fields of edges no longer in the registry, deleted. */
  readonly removed: number;
}

/**
 * Recounts the fleet and stores the counts (`keyspace.fleetSignals`); `registered`: every
 * registered edge's building (FleetView.edgeBuildings).
 */
export async function recountFleet(
  registered: ReadonlyMap<string, string>,
  bus: Bus,
  now = Date.now(),
): Promise<RecountResult> {
  const presence = await readPresence(bus);
  const missing = [...registered.keys()].filter((id) => !presence.has(id));
  const bootstrapped = await bootstrap(bus, missing, presence);
  const stale = [...presence.keys()].filter((id) => !registered.has(id));
  for (let i = 0; i < stale.length; i += PAGE)
    await bus.redis.hdel(bus.keyspace.presence, ...stale.slice(i, i + PAGE));
  const buildings = new Map<string, BuildingCounts>();
  for (const [id, building] of registered) {
    const c = buildings.get(building) ?? { online: 0, offline: 0, never: 0 };
    buildings.set(building, c);
    const p = presence.get(id);
    if (p === true) c.online++;
    else if (p === false) c.offline++;
    else c.never++;
  }
  const counts: FleetCounts = { at: now, buildings: bounded(buildings) };
  await bus.redis.set(bus.keyspace.fleetSignals, JSON.stringify(counts));
  return { counts, bootstrapped, removed: stale.length };
}

/** The last stored counts, if a recount ever ran. */
export async function readFleetCounts(bus: Bus): Promise<FleetCounts | undefined> {
  const raw = await bus.redis.get(bus.keyspace.fleetSignals);
  return raw === null ? undefined : (JSON.parse(raw) as FleetCounts);
}

/** The presence hash, read in slices (HSCAN: no single command holds Redis for the whole fleet). */
async function readPresence(bus: Bus): Promise<Map<string, boolean>> {
  const presence = new Map<string, boolean>();
  let cursor = '0';
  do {
    const [next, flat] = await bus.redis.hscan(bus.keyspace.presence, cursor, 'COUNT', 5000);
    for (let i = 0; i + 1 < flat.length; i += 2) presence.set(flat[i] as string, flat[i + 1] === '1');
    cursor = next;
  } while (cursor !== '0');
  return presence;
}

/**
 * Edges `ids` looked up in their actors' checkpoints; those that have one get a presence field
 * (HSETNX: the sink's newer word stays) and are added to `presence`. The edges with none were
 * never heard from and stay without a field. Returns how many were written.
 */
async function bootstrap(bus: Bus, ids: readonly string[], presence: Map<string, boolean>): Promise<number> {
  const { keyspace } = bus;
  let written = 0;
  // Pages of whole shards: each shard's checkpoints read with one HMGET in all.
  await forEachCheckpointPage(
    bus,
    ids.map((id) => `edge/${id}`),
    async (addresses, states) => {
      const found: [string, boolean][] = [];
      addresses.forEach((address, k) => {
        const raw = states[k];
        if (raw === null || raw === undefined) return;
        found.push([
          address.slice('edge/'.length),
          (JSON.parse(raw) as { s?: { online?: boolean } }).s?.online === true,
        ]);
      });
      if (found.length === 0) return;
      const write = bus.pipeline();
      for (const [id, online] of found) write.hsetnx(keyspace.presence, id, online ? '1' : '0');
      const replies = (await execOrThrow(write)) as number[];
      found.forEach(([id, online], k) => {
        if (replies[k] === 1) written++;
        presence.set(id, online);
      });
    },
    PAGE,
  );
  return written;
}

/** The MAX_BUILDINGS buildings with the most edges by name; the rest summed as `other`. */
function bounded(buildings: Map<string, BuildingCounts>): Record<string, BuildingCounts> {
  const total = (c: BuildingCounts) => c.online + c.offline + c.never;
  const sorted = [...buildings].sort((a, b) => total(b[1]) - total(a[1]) || (a[0] < b[0] ? -1 : 1));
  const out: Record<string, BuildingCounts> = {};
  for (const [name, c] of sorted.slice(0, MAX_BUILDINGS)) out[name] = c;
  const rest = sorted.slice(MAX_BUILDINGS);
  if (rest.length > 0) {
    const other = out.other ?? { online: 0, offline: 0, never: 0 };
    for (const [, c] of rest) {
      other.online += c.online;
      other.offline += c.offline;
      other.never += c.never;
    }
    out.other = other;
  }
  return out;
}
