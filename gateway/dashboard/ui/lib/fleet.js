/**
 * The fleet as the overview shows it: every registered edge (up to 5,000, paged from
 * `GET /v1/edges`), kept current by the live events (online, offline, alarms).
 */
import { api } from './api.js';

/** Edge id → edge as `GET /v1/edges` returns it, updated in place by `applyFleetEvent`. */
export const edges = new Map();

export async function loadFleet() {
  let after = '';
  edges.clear();
  do {
    const query = after ? `&after=${encodeURIComponent(after)}` : '';
    const page = (await api(`/v1/edges?limit=500${query}`)).body;
    for (const edge of page.edges) edges.set(edge.id, edge);
    after = page.next;
  } while (after && edges.size < 5000);
}

/** Applies one live event to the edge it names, if the fleet holds it. */
export function applyFleetEvent(event) {
  const edge = edges.get(event.edgeId);
  if (!edge) return;
  if (event.type === 'edge.online') edge.online = true;
  if (event.type === 'edge.offline') edge.online = false;
  if (event.type === 'alarm.start')
    edge.openAlarms = { ...edge.openAlarms, [event.alarm]: { since: event.at } };
  if (event.type === 'alarm.end') {
    const { [event.alarm]: _, ...rest } = edge.openAlarms;
    edge.openAlarms = rest;
  }
}

export const alarmNames = (edge) => Object.keys(edge.openAlarms ?? {});
