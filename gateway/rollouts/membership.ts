/**
 * Who a rollout reaches and in which wave, decided by the gateway when the rollout is created:
 * the members in a deterministic order (FNV-1a of rollout id and edge id: the same fleet gives
 * the same waves, and a canary is a spread sample, not the first ids), buildings' waves first
 * (an edge in a building a wave names), then cumulative percents over the rest. Each member
 * carries its building, the building's IANA time zone (maintenance windows are local time) and
 * how it is told: an `update` command, or `pull` (wall screens read their bundle manifest, and
 * every edge reads its configuration).
 */
import { fnv1a32 } from '../../bus/mod.ts';
import type { Delivery, RolloutMember } from '../../edge/rollout/mod.ts';
import type { FleetMatch } from '../fleet-search/mod.ts';

/** Wave placement rules, as in the spec (cumulative percent, or buildings). */
export interface WavePlan {
  readonly percent?: number;
  readonly buildings?: readonly string[];
}

/** The labels that may name an edge's time zone, first wins. */
const ZONE_LABELS = ['tz', 'timeZone', 'timezone'] as const;

/** An edge's building: its `building` label, else its group. */
export function buildingOf(match: Pick<FleetMatch, 'row'>): string | undefined {
  return match.row.labels.building ?? match.row.groupId ?? undefined;
}

/** The IANA zone the edge's labels name, when it is one this runtime knows; else UTC. */
export function timeZoneOf(match: Pick<FleetMatch, 'row'>): string {
  for (const label of ZONE_LABELS) {
    const zone = match.row.labels[label];
    if (zone !== undefined && isTimeZone(zone)) return zone;
  }
  return 'UTC';
}

const zones = new Map<string, boolean>();
function isTimeZone(zone: string): boolean {
  let ok = zones.get(zone);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      ok = true;
    } catch {
      ok = false;
    }
    zones.set(zone, ok);
  }
  return ok;
}

/** `pull` for configuration rollouts and wall screens; `command` for the rest. */
export function deliveryOf(match: Pick<FleetMatch, 'edge'>, configRollout: boolean): Delivery {
  return configRollout || match.edge.hardware === 'screen' ? 'pull' : 'command';
}

/** A member without its wave (a `join`: the actor places it in the current wave or a later one). */
export function toMember(match: FleetMatch, configRollout: boolean): RolloutMember {
  const building = buildingOf(match);
  return {
    edgeId: match.row.id,
    ...(building === undefined ? {} : { building }),
    timeZone: timeZoneOf(match),
    delivery: deliveryOf(match, configRollout),
  };
}

/**
 * The members with their waves: by building first (the first wave that names the building),
 * then the rest in hash order by cumulative percent; edges neither rule places go to the last
 * wave (a rollout reaches every member in the end).
 */
export function splitIntoWaves(
  rolloutId: string,
  members: readonly RolloutMember[],
  waves: readonly WavePlan[],
): (RolloutMember & { wave: number })[] {
  const byBuilding = new Map<string, number>();
  waves.forEach((w, i) => {
    for (const b of w.buildings ?? []) if (!byBuilding.has(b)) byBuilding.set(b, i);
  });
  const placed: (RolloutMember & { wave: number })[] = [];
  const rest: RolloutMember[] = [];
  for (const m of members) {
    const wave = m.building === undefined ? undefined : byBuilding.get(m.building);
    if (wave === undefined) rest.push(m);
    else placed.push({ ...m, wave });
  }
  const order = rest
    .map((m) => ({ m, h: fnv1a32(`${rolloutId}\u0000${m.edgeId}`) }))
    .sort((a, b) => a.h - b.h || (a.m.edgeId < b.m.edgeId ? -1 : 1));
  const percentWaves = waves.flatMap((w, i) => (w.percent === undefined ? [] : [{ i, percent: w.percent }]));
  const last = waves.length - 1;
  let k = 0;
  for (const { i, percent } of percentWaves) {
    // At least one edge per wave while any are left: a 1 % canary of 40 edges is one edge.
    const share = Math.max(k + 1, Math.ceil((order.length * percent) / 100));
    const upTo = i === last ? order.length : share;
    for (; k < Math.min(upTo, order.length); k++) placed.push({ ...order[k]!.m, wave: i });
  }
  for (; k < order.length; k++) placed.push({ ...order[k]!.m, wave: last });
  return placed;
}
