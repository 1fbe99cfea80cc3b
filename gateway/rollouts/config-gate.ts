/**
 * The configuration gate: while a configuration rollout runs, the version it delivers is served
 * only to edges it has admitted; every other edge is served the version before, so a new
 * configuration reaches the fleet wave by wave like a package does.
 *
 * An edge is admitted when its edge actor's state says so (`updates.assigned` from this rollout:
 * its `configVersion` is served — the previous one again after a roll back), or, once a later
 * rollout has replaced that assignment, when the rollout's member record says it was assigned and
 * did not fail (the rollout's state, read at most every 2 s per gateway). A rollout gates while
 * its version is the document's current one and it has not completed: a newer version written
 * ends it; an aborted rollout keeps the edges it never reached on the version before; a rolled
 * back one serves the version before to all.
 *
 * What a long-poll is served changes with an admission (the edge actor's `update.assigned`) or a
 * rollout's status (`rollout.state`), not with a document: the gate hears both on the gateway's
 * event feed and wakes the long-polls concerned — the admitted edge's, or every one. Long-polls
 * of gated edges also look again every GATED_RECHECK_MS, for an event the feed missed; they did
 * so every 3 s with no events heard, which at 50,000 edges was ~17,000 configurations served
 * again a second, each reading its edge's state, for as long as a rollout ran.
 */
import { and, eq, isNotNull, ne } from 'drizzle-orm';
import type { Bus } from '../../bus/mod.ts';
import { MEMBER_STATUS as M, type MemberRecord } from '../../edge/rollout/mod.ts';
import type { Db } from '../db/database.ts';
import { type ConfigKind, configDocuments, configVersions, rollouts } from '../db/schema.ts';
import { readEdgeState } from '../edge-states.ts';
import type { ConfigPin, FleetView } from '../fleet-view.ts';
import type { EventFeed } from '../live-events.ts';
import type { OutboxItem } from '../outbox/events.ts';
import { readRolloutState } from './view.ts';

/** How often the long-poll of an edge a rollout gates looks again without an event (ms). */
export const GATED_RECHECK_MS = 30_000;

interface GatedRollout {
  readonly id: string;
  readonly kind: ConfigKind;
  readonly scope: string;
  readonly version: number;
  readonly base: number;
  /** The base version's body (undefined: no document before). */
  readonly baseBody: Record<string, unknown> | undefined;
  readonly status: string;
}

/** Member statuses that count as admitted (the rollout's version is the edge's). */
const ADMITTED: ReadonlySet<number> = new Set([
  M.assigned,
  M.downloading,
  M.downloaded,
  M.verified,
  M.installing,
  M.healthy,
]);

export class ConfigRolloutGate implements Disposable {
  readonly #db: Db;
  readonly #bus: Bus;
  readonly #view: FleetView;
  /** Document versions when the gate was loaded: a newer one makes it load again before serving. */
  #docVersions = new Map<string, number>();
  readonly #refreshMs: number;
  #gated: GatedRollout[] = [];
  #loadedAt = -Infinity;
  #loading: Promise<void> | undefined;
  readonly #members = new Map<string, { at: number; members: Readonly<Record<string, MemberRecord>> }>();
  readonly #unsubscribe: (() => void) | undefined;
  #checks = 0;

  constructor(
    deps: { readonly db: Db; readonly bus: Bus; readonly view: FleetView; readonly feed?: EventFeed },
    options: { refreshMs?: number } = {},
  ) {
    this.#db = deps.db;
    this.#bus = deps.bus;
    this.#view = deps.view;
    this.#refreshMs = options.refreshMs ?? 2000;
    this.#unsubscribe = deps.feed?.subscribe((item) => this.#heard(item));
  }

  /** An admission wakes that edge's long-polls; a gating rollout's new status, every one. */
  #heard({ event }: OutboxItem): void {
    if (event.type === 'update.assigned' && typeof event.edgeId === 'string')
      this.#view.wake({ kind: 'edge', id: event.edgeId });
    else if (event.type === 'rollout.state' && this.#gated.some((r) => r.id === event.rollout)) {
      this.#loadedAt = -Infinity; // the status is read again before anything is served
      this.#view.wake();
    }
  }

  /** pin() calls that found a rollout gating the module (each reads the edge's state). */
  get checks(): number {
    return this.#checks;
  }

  [Symbol.dispose](): void {
    this.#unsubscribe?.();
  }

  /**
   * What edge `id` must be served instead of the current document, or undefined when the
   * current one is its (no configuration rollout gates it, or it was admitted).
   */
  async pin(kind: ConfigKind, id: string): Promise<ConfigPin | undefined> {
    const view = this.#view;
    const group = kind === 'edge' ? view.groupOf(id) : undefined;
    // A version newer than the gate knows of: a rollout may have been made for it (its row is
    // written before the version), so look before serving it. A write wakes every edge's
    // long-poll at once: they share one load (the one under way, if it read the version, else
    // the next), not one load each.
    const newer = () => this.#newer(kind, group);
    if (newer()) {
      await this.#loading;
      if (newer()) await this.#load();
    } else if (performance.now() - this.#loadedAt >= this.#refreshMs) await this.#load();
    if (this.#gated.length === 0) return undefined;
    const gate = this.#gated.find(
      (r) =>
        r.kind === kind &&
        (r.scope === 'global' || (group != null && r.scope === `group:${group}`)) &&
        view.documentVersion(kind, r.scope) === r.version,
    );
    if (gate === undefined) return undefined;
    this.#checks++;
    const before: ConfigPin = { scope: gate.scope, body: gate.baseBody };
    if (gate.status === 'rolled_back') return before;
    return (await this.#admittedVersion(gate, id)) === gate.version ? undefined : before;
  }

  /**
   * Whether `pin(kind, id)` would answer undefined without loading or reading anything: no
   * rollout gates, no reload is due or under way, and no document of the module's scopes is newer
   * than the gate knows of (the configuration's 304 fast path, routes/config-not-modified.ts).
   */
  settled(kind: ConfigKind, id: string): boolean {
    if (this.#gated.length > 0 || this.#loading !== undefined) return false;
    if (performance.now() - this.#loadedAt >= this.#refreshMs) return false;
    return !this.#newer(kind, kind === 'edge' ? this.#view.groupOf(id) : undefined);
  }

  /** Whether a document of the module's scopes (global, its group's) is newer than the gate knows of. */
  #newer(kind: ConfigKind, group: string | null | undefined): boolean {
    const scopes = ['global', ...(group == null ? [] : [`group:${group}`])];
    return scopes.some(
      (scope) =>
        (this.#view.documentVersion(kind, scope) ?? 0) >
        (this.#docVersions.get(`${kind}\u0000${scope}`) ?? 0),
    );
  }

  /** Whether any configuration rollout gates now (long-polls then look again every GATED_RECHECK_MS). */
  get active(): boolean {
    return this.#gated.length > 0;
  }

  async #admittedVersion(gate: GatedRollout, id: string): Promise<number> {
    const assigned = (await readEdgeState(this.#bus, id))?.updates?.assigned;
    if (assigned?.rollout === gate.id && assigned.configVersion !== undefined) return assigned.configVersion;
    const record = (await this.#memberRecords(gate.id))[id];
    return record !== undefined && ADMITTED.has(record[1]) ? gate.version : gate.base;
  }

  async #memberRecords(rollout: string): Promise<Readonly<Record<string, MemberRecord>>> {
    const cached = this.#members.get(rollout);
    if (cached !== undefined && performance.now() - cached.at < this.#refreshMs) return cached.members;
    const members = (await readRolloutState(this.#bus, rollout))?.members ?? {};
    this.#members.set(rollout, { at: performance.now(), members });
    return members;
  }

  /** The load under way, or a new one (concurrent requests share it). */
  #load(): Promise<void> {
    this.#loading ??= this.reload().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /**
   * Reads the configuration rollouts that may gate (newest first). One whose version the fleet
   * view has already moved past can never gate again (versions only grow): it is left out, so
   * aborted and rolled back rollouts of old versions neither cost a query every reload nor keep
   * `active` set (every edge's configuration long-poll waking every few seconds for good).
   */
  async reload(): Promise<void> {
    // The versions first, then the rollouts: a rollout's row is written before its version, so
    // every version read here has its row read below (read side by side, the rollouts' query
    // could miss a row whose version the other one saw, and that version go out ungated).
    const docs = await this.#db
      .select({ kind: configDocuments.kind, scope: configDocuments.scope, version: configDocuments.version })
      .from(configDocuments);
    const rows = await this.#db
      .select()
      .from(rollouts)
      .where(and(isNotNull(rollouts.configVersion), ne(rollouts.status, 'completed')));
    const gated: GatedRollout[] = [];
    for (const r of rows.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())) {
      const kind = r.configKind!;
      const scope = r.configScope!;
      if (r.configVersion! < (this.#view.documentVersion(kind, scope) ?? 0)) continue;
      const base = r.configBaseVersion ?? 0;
      const [row] =
        base > 0
          ? await this.#db
              .select({ body: configVersions.body })
              .from(configVersions)
              .where(
                and(
                  eq(configVersions.kind, kind),
                  eq(configVersions.scope, scope),
                  eq(configVersions.version, base),
                ),
              )
          : [];
      gated.push({
        id: r.id,
        kind,
        scope,
        version: r.configVersion!,
        base,
        baseBody: row?.body,
        status: r.status,
      });
    }
    this.#gated = gated;
    this.#docVersions = new Map(docs.map((d) => [`${d.kind}\u0000${d.scope}`, d.version]));
    this.#loadedAt = performance.now();
    this.#members.clear();
  }
}
