/**
 * The fleet filter's language: terms joined by spaces (or `AND`), all of which must hold.
 *
 *   group=building-7  id=E-00*  hardware=rv1126  online=true
 *   label.building=B12  label.floor!=B1
 *   installed.elenet<2.1.0  installed.agent>=1.4  installed.litefcccore=*   (any version)
 *   shadow.status.fw=1.2  shadow.heartbeat.cpu>80
 *
 * Operators: `=` `!=` (a `*` in the value matches any run of characters), and `<` `<=` `>` `>=`
 * for installed versions and shadow fields (numbers as numbers, versions part by part). A value
 * with spaces is quoted: `label.site="Tower A"`. A query that cannot be read is a
 * FleetQueryError with the position (0-based) and the reason.
 */

export type FleetField =
  | { readonly kind: 'group' | 'id' | 'hardware' | 'online' }
  | { readonly kind: 'label'; readonly key: string }
  | { readonly kind: 'installed'; readonly name: string }
  | { readonly kind: 'shadow'; readonly path: readonly string[] };

export const FLEET_OPS = ['=', '!=', '<', '<=', '>', '>='] as const;
export type FleetOp = (typeof FLEET_OPS)[number];

export interface FleetTerm {
  readonly field: FleetField;
  readonly op: FleetOp;
  readonly value: string;
  /** Where the term starts in the query. */
  readonly position: number;
}

export interface FleetQuery {
  /** The query as written (normalised: trimmed). */
  readonly text: string;
  readonly terms: readonly FleetTerm[];
}

/** A query that cannot be read: where (0-based character position) and why. */
export class FleetQueryError extends Error {
  readonly code = 'BAD_QUERY';
  readonly position: number;
  readonly reason: string;
  constructor(position: number, reason: string) {
    super(`Bad fleet query at position ${position}: ${reason}`);
    this.name = 'FleetQueryError';
    this.position = position;
    this.reason = reason;
  }
}

export const MAX_QUERY_LENGTH = 2048;
export const MAX_TERMS = 32;

const NAME = /^[A-Za-z0-9_.:-]+$/;
const ORDERED: readonly FleetField['kind'][] = ['installed', 'shadow'];
const FIELDS = 'group, id, hardware, online, label.<key>, installed.<name>, shadow.<kind>.<field>';

/** Reads a query; the empty query matches every edge. */
export function parseFleetQuery(text: string): FleetQuery {
  if (text.length > MAX_QUERY_LENGTH)
    throw new FleetQueryError(MAX_QUERY_LENGTH, `longer than ${MAX_QUERY_LENGTH} characters`);
  const terms: FleetTerm[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const start = i;
    // The field runs to the first operator character.
    while (i < text.length && !/[=!<>\s"]/.test(text[i]!)) i++;
    const name = text.slice(start, i);
    if (name.toUpperCase() === 'AND' && (i >= text.length || /\s/.test(text[i]!))) continue;
    if (name === '') throw new FleetQueryError(start, 'a field name is missing');
    const field = readField(name, start);
    const op = readOp(text, i);
    i += op.length;
    const { value, end } = readValue(text, i);
    checkTerm(field, op, value, start, i);
    i = end;
    terms.push({ field, op, value, position: start });
    if (terms.length > MAX_TERMS) throw new FleetQueryError(start, `more than ${MAX_TERMS} terms`);
  }
  return { text: text.trim(), terms };
}

function readField(name: string, at: number): FleetField {
  if (name === 'group' || name === 'id' || name === 'hardware' || name === 'online') return { kind: name };
  const dot = name.indexOf('.');
  const head = dot < 0 ? name : name.slice(0, dot);
  const rest = dot < 0 ? '' : name.slice(dot + 1);
  if (head === 'label' || head === 'labels' || head === 'installed') {
    if (!NAME.test(rest)) throw new FleetQueryError(at + head.length, `${head} needs a name: ${head}.<name>`);
    return head === 'installed' ? { kind: 'installed', name: rest } : { kind: 'label', key: rest };
  }
  if (head === 'shadow') {
    const path = rest.split('.');
    if (path.length < 2 || path.some((p) => !NAME.test(p)))
      throw new FleetQueryError(at + head.length, 'shadow needs a kind and a field: shadow.<kind>.<field>');
    return { kind: 'shadow', path };
  }
  throw new FleetQueryError(at, `unknown field "${name}" (fields: ${FIELDS})`);
}

function readOp(text: string, at: number): FleetOp {
  const two = text.slice(at, at + 2);
  if (two === '!=' || two === '<=' || two === '>=') return two;
  const one = text[at];
  if (one === '=' || one === '<' || one === '>') return one;
  throw new FleetQueryError(
    at,
    at >= text.length ? 'an operator is missing at the end' : `expected an operator (${FLEET_OPS.join(' ')})`,
  );
}

function readValue(text: string, at: number): { value: string; end: number } {
  if (text[at] === '"') {
    let value = '';
    for (let i = at + 1; i < text.length; i++) {
      const c = text[i]!;
      if (c === '\\' && i + 1 < text.length) value += text[++i];
      else if (c === '"') {
        if (i + 1 < text.length && !/\s/.test(text[i + 1]!))
          throw new FleetQueryError(i + 1, 'expected a space after the quoted value');
        return { value, end: i + 1 };
      } else value += c;
    }
    throw new FleetQueryError(at, 'the quoted value is not closed');
  }
  let end = at;
  while (end < text.length && !/\s/.test(text[end]!)) end++;
  const value = text.slice(at, end);
  if (value === '') throw new FleetQueryError(at, 'a value is missing');
  const bad = value.search(/[=!<>"]/);
  if (bad >= 0) throw new FleetQueryError(at + bad, `unexpected "${value[bad]}" in the value (quote it)`);
  return { value, end };
}

function checkTerm(field: FleetField, op: FleetOp, value: string, start: number, valueAt: number): void {
  const ordered = op !== '=' && op !== '!=';
  if (ordered && !ORDERED.includes(field.kind))
    throw new FleetQueryError(start, `${field.kind} takes only = and !=, not ${op}`);
  if (ordered && value.includes('*'))
    throw new FleetQueryError(valueAt, `${op} compares with a value, not a pattern`);
  if (field.kind === 'online' && value !== 'true' && value !== 'false')
    throw new FleetQueryError(valueAt, `online is true or false, got "${value}"`);
}
