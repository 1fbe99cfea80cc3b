/**
 * What the gateway answers configuration requests from: every configuration document, every
 * edge's group and the broker pool, held in memory and reloaded whenever any gateway changes
 * one of them (Redis pub/sub, `keyspace.configChanges`) and every 30 s. A poll is a lookup and a
 * hash, never a query: 5,000 edges polling is nothing for the database. Long-polls wait on the
 * next reload.
 *
 * A notice reloads what it names (fleet-notices.ts): an edge's (`edge/<id>`) that edge's row, one
 * module's document that row, a wider document every document, a broker's (`broker/…`) the
 * pool, an API key's or the alert rules' nothing, anything else the whole view; and it wakes the
 * long-polls whose configuration it may change (change-waiters.ts). At 50,000 edges a whole
 * reload holds a gateway on PGlite ~0.5 s, and a rotation's grace period ending for 1,000 edges
 * sends 1,000 notices. Reloads never overlap: notices that come during one are taken together by
 * the next (coalescedRun).
 */
import { and, eq, inArray, or } from 'drizzle-orm';
import { type Logger, silentLogger } from '../actors/mod.ts';
import { type Bus, type Redis, toError } from '../bus/mod.ts';
import type { PoolBroker } from './broker-assignment.ts';
import { ChangeWaiters } from './change-waiters.ts';
import { coalescedRun } from './coalesced-run.ts';
import { type ConfigPin, type ResolvedConfig, resolveConfig } from './config-resolution.ts';
import type { Db } from './db/database.ts';
import { brokers, type ConfigKind, configDocuments, edges } from './db/schema.ts';
import { changedEdgeRows, type EdgeChanges, type EdgesMark, edgeColumns, FleetEdges } from './fleet-edges.ts';
import {
  changedDocuments,
  documentMap,
  edgesCount,
  type Fingerprint,
  fingerprintOf,
  inTheView,
  keyOf,
  type ModuleDocument,
  moduleDocument,
} from './fleet-notices.ts';

export type { ConfigPin, ResolvedConfig } from './config-resolution.ts';

export interface FleetViewOptions {
  readonly db: Db;
  /** The gateway's bus: change notices are published on it; the subscription has its own connection. */
  readonly bus: Bus;
  readonly logger?: Logger;
  readonly refreshMs?: number;
  /** Called with what changed (`edge/<id>`, `api-key/<id>`, …) whenever any gateway says so. */
  readonly onChange?: (what: string) => void;
}

/** What a refresh asks for when the documents' fingerprint moved: all of them read again. */
const EVERY_DOCUMENT = '*';

export class FleetView implements AsyncDisposable {
  readonly #o: FleetViewOptions;
  readonly #log: Logger;
  #subscriber: Redis | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #docs = new Map<string, { version: number; body: Record<string, unknown> }>();
  #edges = new FleetEdges();
  #brokers: PoolBroker[] = [];
  #resolved = new Map<string, ResolvedConfig | undefined>();
  readonly #waiters = new ChangeWaiters();
  /** Each table's fingerprint when it was last read whole (the refresh compares them). */
  #fingerprint: Fingerprint | undefined;
  /** Asked for since the pass in progress began: a whole reload, documents, the pool, edges' rows. */
  #wantAll = false;
  /** `<kind>/<scope>` of documents that changed. */
  readonly #wantDocuments = new Set<string>();
  #wantBrokers = false;
  #wantEdges = new Set<string>();
  /**
   * The refresh found the edges' fingerprint moved: the rows changed since the last one are read,
   * and this one (taken before that read) becomes the last.
   */
  #wantChangedEdges: Fingerprint | undefined;
  readonly #pass = coalescedRun(() => this.#reloadWanted());

  constructor(options: FleetViewOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ component: 'fleet-view' });
  }

  async start(): Promise<this> {
    await this.reload();
    const subscriber = this.#o.bus.duplicate().redis;
    this.#subscriber = subscriber;
    subscriber.on('message', (_channel: string, what: string) => {
      this.#o.onChange?.(what);
      void this.#reloadFor(what);
    });
    subscriber.on('error', (err) => this.#log.warn({ err }, 'config change subscription error'));
    await subscriber.subscribe(this.#o.bus.keyspace.configChanges);
    this.#timer = setInterval(() => void this.#refresh(), this.#o.refreshMs ?? 30_000);
    this.#timer.unref();
    return this;
  }

  /** Long-polls waiting for the next change. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * The configuration of module `id` of `kind` (config-resolution.ts), cached until a change
   * names it; undefined for an unknown edge. With `pin`, one scope's document is replaced (not
   * cached).
   */
  resolve(kind: ConfigKind, id: string, pin?: ConfigPin): ResolvedConfig | undefined {
    const cacheKey = keyOf(kind, id);
    if (pin === undefined && this.#resolved.has(cacheKey)) return this.#resolved.get(cacheKey);
    const result = resolveConfig(
      kind,
      id,
      { docs: this.#docs, edges: this.#edges, brokers: this.#brokers },
      pin,
    );
    if (pin === undefined) this.#resolved.set(cacheKey, result);
    return result;
  }

  /** An edge's group (null: none; undefined: not registered). */
  groupOf(id: string): string | null | undefined {
    return this.#edges.groups.get(id);
  }

  /**
   * Every registered edge and its group (null: none): patched in place by a notice or a refresh,
   * a new map at a whole reload. `edgeChanges` says which edges changed.
   */
  edgeGroups(): ReadonlyMap<string, string | null> {
    return this.#edges.groups;
  }

  /** The edges whose row changed since `mark` (FleetEdges.changesSince; undefined ids: every edge). */
  edgeChanges(mark?: EdgesMark): EdgeChanges {
    return this.#edges.changesSince(mark);
  }

  /**
   * Every registered edge's building, for the fleet's counts (fleet-signals/recount.ts): its
   * `building` label, else its group, else `none`. Made once per whole reload, when first asked,
   * and patched in place with the edges: a recount reads no database (it read 50,000 rows of the
   * registry every 30 s, 175-190 ms of a gateway's main thread on PGlite).
   */
  edgeBuildings(): ReadonlyMap<string, string> {
    return this.#edges.buildings();
  }

  /** The current version of a document, if there is one. */
  documentVersion(kind: ConfigKind, scope: string): number | undefined {
    return this.#docs.get(keyOf(kind, scope))?.version;
  }

  /** Whether a rotation's new secret waits for edge `id` (the database has it, sealed). */
  secretPending(id: string): boolean {
    return this.#edges.secretPending(id);
  }

  /**
   * Resolves at the next reload that may change the configuration of `about` (any reload without
   * it), or after `ms`, or when `signal` aborts.
   */
  waitForChange(ms: number, signal?: AbortSignal, about?: { kind: ConfigKind; id: string }): Promise<void> {
    return this.#waiters.wait(ms, signal, about === undefined ? undefined : keyOf(about.kind, about.id));
  }

  /**
   * Wakes the long-polls about `about`'s configuration (every one without it): something outside
   * the view changed what they are served (a configuration rollout admitted the edge, or changed
   * its status; rollouts/config-gate.ts). This gateway's only.
   */
  wake(about?: { kind: ConfigKind; id: string }): void {
    this.#waiters.wake(about === undefined ? undefined : [keyOf(about.kind, about.id)]);
  }

  /**
   * Tells every gateway (this one included) that something changed: `edge/<id>` reloads that
   * edge's row, `config/<kind>/<scope>` that document (all of them for a scope wider than a
   * module), `broker/…` the pool, anything else the whole view.
   */
  async changed(what: string): Promise<void> {
    await this.#reloadFor(what, { quietly: false });
    const { bus } = this.#o;
    await bus.redis.publish(bus.keyspace.configChanges, what);
  }

  /** Reloads the whole view (after any pass in progress); rejects when that reload failed. */
  async reload(): Promise<void> {
    this.#wantAll = true;
    await this.#pass();
    if (this.#failed !== undefined) throw this.#failed;
  }

  /** Set by a pass that failed, cleared by the next one that starts. */
  #failed: Error | undefined;

  async #reloadFor(what: string, o: { quietly: boolean } = { quietly: true }): Promise<void> {
    const edge = /^edge\/(.+)$/.exec(what)?.[1];
    if (edge !== undefined) this.#wantEdges.add(edge);
    else if (what.startsWith('config/')) this.#wantDocuments.add(what.slice('config/'.length));
    else if (what.startsWith('broker/')) this.#wantBrokers = true;
    else if (!inTheView(what)) return;
    else this.#wantAll = true;
    await this.#pass();
    if (this.#failed !== undefined && !o.quietly) throw this.#failed;
  }

  /** One pass: the whole view when asked for (it has everything), else what was asked for. */
  async #reloadWanted(): Promise<void> {
    this.#failed = undefined;
    const all = this.#wantAll;
    const documents = [...this.#wantDocuments];
    const pool = this.#wantBrokers;
    const ids = [...this.#wantEdges];
    const changedEdges = this.#wantChangedEdges;
    this.#wantAll = this.#wantBrokers = false;
    this.#wantChangedEdges = undefined;
    this.#wantDocuments.clear();
    this.#wantEdges.clear();
    try {
      if (all) await this.#reloadAll();
      else {
        const modules = documents.map(moduleDocument);
        if (pool || modules.includes(undefined)) await this.#reloadTables(documents.length > 0, pool);
        else if (documents.length > 0) await this.#reloadModules(modules as ModuleDocument[]);
        if (ids.length > 0) await this.#reloadEdges(ids);
        if (changedEdges !== undefined) await this.#reloadChangedEdges(changedEdges);
      }
    } catch (error) {
      this.#failed = toError(error);
      this.#log.warn({ err: this.#failed }, 'could not reload the fleet view; keeping the last one');
    }
  }

  /**
   * The documents and/or the broker pool (small tables), with their fingerprints. Only modules'
   * documents changed (their versions compared), only those modules' configurations are made
   * afresh; else, or the pool read, every one.
   */
  async #reloadTables(documents: boolean, pool: boolean): Promise<void> {
    const { db } = this.#o;
    // Their fingerprints before they are read, as a whole reload does: a table read whole is
    // not reloaded again by the next refresh (at 5,000 edges that refresh, 30 s after a global
    // document's change, cleared every configuration again: the bench's re-poll p99 doubled).
    const fingerprint = await fingerprintOf(db);
    const [docs, brokerRows] = await Promise.all([
      documents ? db.select().from(configDocuments) : undefined,
      pool ? db.select().from(brokers) : undefined,
    ]);
    let changed: string[] | undefined;
    if (docs !== undefined) {
      const before = this.#docs;
      this.#docs = documentMap(docs);
      changed = changedDocuments(before, this.#docs);
    }
    if (brokerRows !== undefined) this.#brokers = brokerRows;
    if (this.#fingerprint !== undefined)
      this.#fingerprint = {
        ...this.#fingerprint,
        ...(documents ? { documents: fingerprint.documents } : {}),
        ...(pool ? { brokers: fingerprint.brokers } : {}),
      };
    const modules = changed?.map((key) => moduleDocument(key.replace('\u0000', '/')));
    if (pool || modules === undefined || modules.includes(undefined)) this.#configsChanged();
    else this.#configsChanged((modules as ModuleDocument[]).map((m) => keyOf(m.kind, m.id)));
  }

  /**
   * Documents of one module each (`module:<id>`: one edge's log level, say): those rows only, and
   * only those modules' configurations made afresh and their long-polls woken. Reading every
   * document and waking every long-poll for one edge's document cost the whole fleet's.
   */
  async #reloadModules(modules: readonly ModuleDocument[]): Promise<void> {
    const rows = await this.#o.db
      .select()
      .from(configDocuments)
      .where(
        or(
          ...modules.map((m) =>
            and(eq(configDocuments.kind, m.kind), eq(configDocuments.scope, `module:${m.id}`)),
          ),
        ),
      );
    const found = documentMap(rows);
    for (const m of modules) {
      const key = keyOf(m.kind, `module:${m.id}`);
      const doc = found.get(key);
      if (doc === undefined) this.#docs.delete(key);
      else this.#docs.set(key, doc);
    }
    this.#configsChanged(modules.map((m) => keyOf(m.kind, m.id)));
  }

  /**
   * These configurations (keyOf(kind, id)) are made afresh on their next read, and their
   * long-polls woken; without keys, every one.
   */
  #configsChanged(keys?: readonly string[]): void {
    if (keys === undefined) this.#resolved = new Map();
    else for (const key of keys) this.#resolved.delete(key);
    this.#waiters.wake(keys);
  }

  /**
   * These edges' rows only, over the view in place (FleetEdges.patch). The fingerprint stays the
   * last whole reload's: a change whose notice was lost is still seen by the next refresh.
   */
  async #reloadEdges(ids: readonly string[]): Promise<void> {
    const rows = await this.#o.db.select(edgeColumns).from(edges).where(inArray(edges.id, ids));
    this.#edges.patch(ids, rows);
    this.#configsChanged(ids.map((id) => keyOf('edge', id)));
  }

  /**
   * The edges' rows changed since the edges' fingerprint was last taken (an index range on
   * `updated_at`), over the view in place, and only their configurations made afresh. A row
   * deleted, or one that came to light too late for the lookback, leaves the view's count off
   * the table's: then every row is read. At 50,000 edges, reading every row was ~0.5 s of
   * PGlite on every gateway within 30 s of any edge's change, and woke every long-poll.
   */
  async #reloadChangedEdges(fingerprint: Fingerprint): Promise<void> {
    const last = this.#fingerprint;
    if (last === undefined) return await this.#reloadAll();
    const rows = await changedEdgeRows(this.#o.db, last.edgesAt);
    // The lookback reads again rows the view already holds: only those that differ change.
    const ids = rows.map((r) => r.id);
    const changed = this.#edges.patch(ids, rows);
    if (this.#edges.size !== edgesCount(fingerprint)) return await this.#reloadAll();
    this.#fingerprint = { ...last, edges: fingerprint.edges, edgesAt: fingerprint.edgesAt };
    if (changed.length > 0) this.#configsChanged(changed.map((id) => keyOf('edge', id)));
  }

  async #reloadAll(): Promise<void> {
    const { db } = this.#o;
    // The tables' fingerprint before they are read: a change after it moves it, so the next
    // refresh reloads; one before it is in what is read. Without it the first refresh (nothing
    // to compare with) reloaded everything: at 50,000 edges a 250-300 ms stall of the gateway.
    const fingerprint = await fingerprintOf(this.#o.db);
    const [docs, edgeRows, brokerRows] = await Promise.all([
      db.select().from(configDocuments),
      db.select(edgeColumns).from(edges),
      db.select().from(brokers),
    ]);
    this.#fingerprint = fingerprint;
    this.#docs = documentMap(docs);
    this.#edges = FleetEdges.of(edgeRows);
    this.#brokers = brokerRows;
    this.#configsChanged();
  }

  /**
   * The periodic safety net for a lost change notice: a cheap fingerprint of each table first;
   * the edges moved, their rows changed since (every row when some were deleted); the documents
   * or the brokers moved, those tables.
   */
  async #refresh(): Promise<void> {
    try {
      const now = await fingerprintOf(this.#o.db);
      const last = this.#fingerprint;
      if (last === undefined) return await this.reload();
      // Its fingerprint is taken before the rows are read: the pass needs no second one.
      if (now.edges !== last.edges) this.#wantChangedEdges = now;
      if (now.documents !== last.documents) this.#wantDocuments.add(EVERY_DOCUMENT);
      if (now.brokers !== last.brokers) this.#wantBrokers = true;
      await this.#pass();
    } catch (error) {
      this.#log.warn({ err: toError(error) }, 'could not refresh the fleet view; keeping the last one');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#waiters.wake();
    this.#subscriber?.disconnect();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
