/**
 * Who may show which scope on a wall (decision 043). An API key of scope operator or admin may
 * show any scope (a service key is refused 403 before this, like on the other operator routes).
 * A wall screen signing in as itself (an edge, `Basic <id:secret>`) may show one scope only: the
 * `screen.scope` its resolved configuration names (global → group → itself, so a building's
 * screens can be pointed at their building in one document), else its own group's; anything else
 * is 403, naming the scope it may show.
 */
import type { Principal } from '../auth.ts';
import type { FleetView } from '../fleet-view.ts';
import { isRecord } from './assignment.ts';

/**
 * `fleet`, `group:<id>` (an edge group id) or `building:<name>` (a birth's building id: no slash,
 * backslash or control character). Plain enough for the OpenAPI document's fuzzers (no `\p{…}`).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the class excludes control characters, so it names them.
export const SCOPE_PATTERN = /^(?:fleet|group:[A-Za-z0-9_.:-]{1,128}|building:[^/\\\x00-\x1f\x7f]{1,128})$/;

/** The one scope a screen (edge) may show; undefined: none. */
export function screenScopeOf(view: FleetView, edgeId: string): string | undefined {
  const screen = view.resolve('edge', edgeId)?.body.screen;
  if (isRecord(screen) && typeof screen.scope === 'string' && SCOPE_PATTERN.test(screen.scope))
    return screen.scope;
  const group = view.groupOf(edgeId);
  return group ? `group:${group}` : undefined;
}

/** Why `principal` may not show `scope`, or undefined when it may. */
export function refusal(view: FleetView, principal: Principal, scope: string): string | undefined {
  if (principal.kind === 'key') return undefined;
  const own = screenScopeOf(view, principal.id);
  if (own === scope) return undefined;
  return own === undefined
    ? `Screen ${principal.id} has no scope to show (set screen.scope in its configuration, or put it in a group)`
    : `Screen ${principal.id} may show only ${own}`;
}
