/**
 * Whether an edge matches a fleet query: the registry's row (group, labels) with what its actor
 * knows (online, shadow, installed versions). Hardware is the `hardware` label, else what the
 * edge's birth message said; a wall screen is hardware `screen`.
 */
import type { FleetOp, FleetQuery, FleetTerm } from './parse.ts';
import { compareVersions, looksLikeVersion } from './version.ts';

/** One edge as the filter sees it. */
export interface FleetEdge {
  readonly id: string;
  readonly groupId: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly online: boolean;
  readonly hardware: string | null;
  /** Installed versions by package name (elenet, litefcccore, agent, a screen bundle …). */
  readonly installed: Readonly<Record<string, string>>;
  readonly shadow: Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>;
}

export function matchesFleetQuery(query: FleetQuery, edge: FleetEdge): boolean {
  return query.terms.every((term) => matchesTerm(term, edge));
}

function matchesTerm(term: FleetTerm, edge: FleetEdge): boolean {
  const { field, op, value } = term;
  switch (field.kind) {
    case 'online':
      return (String(edge.online) === value) === (op === '=');
    case 'group':
      return equality(op, edge.groupId ?? undefined, value);
    case 'id':
      return equality(op, edge.id, value);
    case 'hardware':
      return equality(op, edge.hardware ?? undefined, value);
    case 'label':
      return equality(op, edge.labels[field.key], value);
    case 'installed':
      return compare(op, edge.installed[field.name], value, true);
    case 'shadow':
      return compare(op, shadowValue(edge, field.path), value, false);
  }
}

/** A shadow field at `path` (`status.fw`; deeper paths walk into objects) as text, if present. */
function shadowValue(edge: FleetEdge, path: readonly string[]): string | undefined {
  let at: unknown = edge.shadow[path[0]!];
  for (const part of path.slice(1)) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  if (at === undefined || at === null) return undefined;
  return typeof at === 'object' ? JSON.stringify(at) : String(at);
}

/** `=` / `!=` with `*` wildcards; a missing value equals nothing (so `!=` holds). */
function equality(op: FleetOp, actual: string | undefined, pattern: string): boolean {
  const equal = actual !== undefined && glob(pattern).test(actual);
  return op === '=' ? equal : !equal;
}

/**
 * Ordered operators: versions part by part (installed versions always: `2.10 > 2.9`), shadow
 * numbers as numbers, else text. A missing value holds for none of them.
 */
function compare(op: FleetOp, actual: string | undefined, value: string, versions: boolean): boolean {
  if (op === '=' || op === '!=') return equality(op, actual, value);
  if (actual === undefined) return false;
  const c = versions ? compareVersions(actual, value) : order(actual, value);
  if (op === '<') return c < 0;
  if (op === '<=') return c <= 0;
  if (op === '>') return c > 0;
  return c >= 0;
}

function order(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  if (looksLikeVersion(a) && looksLikeVersion(b)) return compareVersions(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

const globs = new Map<string, RegExp>();

function glob(pattern: string): RegExp {
  let re = globs.get(pattern);
  if (re === undefined) {
    const body = pattern
      .split('*')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    re = new RegExp(`^${body}$`, 's');
    if (globs.size > 1000) globs.clear();
    globs.set(pattern, re);
  }
  return re;
}
