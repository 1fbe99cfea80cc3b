/**
 * Creating a rollout: the filter read (a 400 with its position when it cannot be), the target
 * resolved (artifacts by name and version, or the configuration version), the spec checked
 * against the actor's own rules, the matching edges found and split into waves, the definition
 * stored, then `create` + `join` sent to `rollout/<id>` and the members recorded.
 */
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Bus } from '../../bus/mod.ts';
import { checkSpec, type RolloutSpec, RolloutSpecError } from '../../edge/rollout/mod.ts';
import { audit } from '../audit.ts';
import { putConfig } from '../config-store.ts';
import type { Db } from '../db/database.ts';
import { rollouts } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import { type FleetMatch, type FleetQuery, parseQuery, resolveFleet } from '../fleet-search/mod.ts';
import type { FleetView } from '../fleet-view.ts';
import { sendMembers } from './members-send.ts';
import { splitIntoWaves, toMember } from './membership.ts';
import type { NewRolloutBody } from './schemas.ts';
import { getRollout, insertRollout, type RolloutRow } from './store.ts';
import { type ArtifactFinder, type ResolvedTarget, resolveTarget } from './targets.ts';

export interface RolloutDeps {
  readonly db: Db;
  readonly bus: Bus;
  readonly view: FleetView;
  readonly findArtifacts?: ArtifactFinder;
}

/** What the definition keeps besides the request: how membership is decided again later. */
export interface MembershipRule {
  readonly filter: string;
  /** Hardware the packages fit (none: any). */
  readonly hardware?: readonly string[];
  readonly configScope?: string;
}

export async function createRollout(
  deps: RolloutDeps,
  actor: string,
  body: NewRolloutBody,
): Promise<RolloutRow> {
  const id = body.id ?? newRolloutId();
  const resolved = await resolveTarget(deps, body.target);
  const rule: MembershipRule = {
    filter: body.filter,
    ...(resolved.hardware === undefined ? {} : { hardware: resolved.hardware }),
    ...(resolved.config === undefined ? {} : { configScope: resolved.config.scope }),
  };
  const query = membershipQuery(rule);
  const spec = toSpec(body, resolved);
  const matches = await resolveMembers(deps, rule, query);
  const config = resolved.config !== undefined;
  const members = splitIntoWaves(
    id,
    matches.map((m) => toMember(m, config)),
    body.waves,
  );
  const inserted = await insertRollout(deps.db, {
    id,
    name: body.name,
    filter: body.filter,
    request: { ...body, id, rule },
    spec: spec as unknown as Record<string, unknown>,
    configKind: resolved.config?.kind ?? null,
    configScope: resolved.config?.scope ?? null,
    configVersion: resolved.config?.version ?? null,
    configBaseVersion: resolved.config?.baseVersion ?? null,
    members: members.length,
    createdBy: actor,
  });
  if (!inserted) throw new ApiError('CONFLICT', `Rollout ${id} exists already`);
  if (resolved.config?.write !== undefined) await writeVersion(deps, id, actor, resolved.config);
  await sendMembers(deps, id, members, { spec, by: actor });
  await audit(deps.db, {
    actor,
    action: 'rollout.create',
    target: `rollout/${id}`,
    details: { members: members.length, filter: body.filter },
  });
  return (await getRollout(deps.db, id))!;
}

/**
 * The configuration rollout's new version, written now that its row (the gate) exists: a gateway
 * that sees the version looks for a gate first. Someone else's write meanwhile undoes the rollout.
 */
async function writeVersion(
  deps: RolloutDeps,
  id: string,
  actor: string,
  c: NonNullable<ResolvedTarget['config']> & { write?: Record<string, unknown> },
): Promise<void> {
  const { kind, scope, baseVersion } = c;
  try {
    const version = await putConfig(deps.db, { kind, scope, body: c.write!, ifMatch: baseVersion, actor });
    await audit(deps.db, {
      actor,
      action: 'config.put',
      target: `config/${kind}/${scope}`,
      details: { version, rollout: id },
    });
  } catch (error) {
    await deps.db.delete(rollouts).where(eq(rollouts.id, id));
    throw error;
  }
  await deps.view.changed(`config/${kind}/${scope}`);
}

/** The rule's filter, narrowed to the configuration's group when the document is a group's. */
export function membershipQuery(rule: MembershipRule): FleetQuery {
  const group = rule.configScope?.startsWith('group:') ? rule.configScope.slice('group:'.length) : undefined;
  return parseQuery(
    group === undefined ? rule.filter : `${rule.filter} group=${JSON.stringify(group)}`,
    'filter',
  );
}

/** Edges matching the rule now: the query, and hardware the packages fit. */
export async function resolveMembers(
  deps: { readonly db: Db; readonly bus: Bus },
  rule: MembershipRule,
  query = membershipQuery(rule),
): Promise<FleetMatch[]> {
  const matches = await resolveFleet(deps, query);
  const fits = rule.hardware;
  return fits === undefined
    ? matches
    : matches.filter((m) => m.edge.hardware !== null && fits.includes(m.edge.hardware));
}

/** The actor's spec from the request (seconds to ms), checked by the actor's own rules. */
function toSpec(body: NewRolloutBody, resolved: ResolvedTarget): RolloutSpec {
  const ms = (s: number | undefined) => (s === undefined ? undefined : s * 1000);
  const spec: RolloutSpec = {
    target: resolved.target,
    waves: body.waves.map((w) => ({
      name: w.name,
      ...(w.percent === undefined ? {} : { percent: w.percent }),
      ...(w.buildings === undefined ? {} : { buildings: w.buildings }),
      successPercent: w.successPercent,
      holdMs: w.holdSeconds * 1000,
    })),
    ...strip({
      errorThreshold: body.errorThreshold,
      health: body.health,
      ratePerMinute: body.ratePerMinute,
      maintenanceWindows: body.maintenanceWindows,
      edgeTimeoutMs: ms(body.edgeTimeoutSeconds),
      retries: body.retries,
      spreadMs: ms(body.spreadSeconds),
      healthDeadlineMs: ms(body.healthDeadlineSeconds),
      tickMs: body.checkEverySeconds === undefined ? undefined : Math.round(body.checkEverySeconds * 1000),
    }),
  };
  try {
    checkSpec(spec);
  } catch (error) {
    if (error instanceof RolloutSpecError) throw new ApiError('INVALID_REQUEST', error.message);
    throw error;
  }
  return spec;
}

function strip<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function newRolloutId(): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  return `r-${day}-${randomBytes(4).toString('hex')}`;
}
