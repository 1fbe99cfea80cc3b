/**
 * Fleet search: the filter language of `GET /v1/edges?q=…` and of rollouts' dynamic groups
 * (group, labels, hardware, installed versions, shadow fields, online), evaluated over the
 * registry and the edge actors' states, paged.
 */
export type { FleetEdge } from './evaluate.ts';
export { matchesFleetQuery } from './evaluate.ts';
export type { FleetField, FleetOp, FleetQuery, FleetTerm } from './parse.ts';
export { FleetQueryError, MAX_QUERY_LENGTH, parseFleetQuery } from './parse.ts';
export { parseQuery } from './parse-query.ts';
export type { EdgeRow, FleetMatch, SearchOptions } from './search.ts';
export { resolveFleet, searchFleet } from './search.ts';
export { compareVersions } from './version.ts';
