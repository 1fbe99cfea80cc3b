/**
 * What the gateway answers configuration requests from: every configuration document, every
 * edge's group and the broker pool, held in memory and reloaded whenever any gateway changes
 * one of them (Redis pub/sub, `keyspace.configChanges`) and every 30 s. A poll is a lookup and a
 * hash, never a query: 5,000 edges polling is nothing for the database. Long-polls wait on the
 * next reload.
 *
 * A notice reloads what it names: an edge's (`edge/<id>`) that edge's row, a document's
 * (`config/…`) the documents, a broker's (`broker/…`) the pool; anything else the whole view. At
 * 50,000 edges a whole reload holds a gateway on PGlite ~0.5 s, and a rotation's grace period
 * ending for 1,000 edges sends 1,000 notices. Reloads never overlap: notices that come during one are taken together by the
 * next (coalescedRun).
 */
import { createHash } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { type Logger, silentLogger } from '../actors/mod.ts';
import { type Bus, type Redis, toError } from '../bus/mod.ts';
import { assignBroker, brokerConfig, type PoolBroker } from './broker-assignment.ts';
import { cdnPoolOf, updatesConfig } from './cdn-assignment.ts';
import { ChangeWaiters } from './change-waiters.ts';
import { coalescedRun } from './coalesced-run.ts';
import { mergeConfig } from './config-store.ts';
import type { Db } from './db/database.ts';
import { brokers, type ConfigKind, configDocuments, edges } from './db/schema.ts';
import { edgeColumns, FleetEdges } from './fleet-edges.ts';
import {
  changedDocuments,
  documentMap,
  type Fingerprint,
  fingerprintOf,
  inTheView,
  type ModuleDocument,
  moduleDocument,
} from './fleet-notices.ts';

export interface ResolvedConfig {
  readonly body: Record<string, unknown>;
  /** Strong ETag of the merged body. */
  readonly etag: string;
}

/**
 * One scope's document replaced in a resolution: a configuration rollout serves an edge it has
 * not admitted yet the version before (gateway/rollouts/config-gate.ts); `body` undefined: no
 * document at that scope.
 */
export interface ConfigPin {
  readonly scope: string;
  readonly body: Record<string, unknown> | undefined;
}

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
  /** The tables' fingerprint when the last whole reload read them. */
  #fingerprint: Fingerprint | undefined;
  /** Asked for since the pass in progress began: a whole reload, or these edges' rows. */
  #wantAll = false;
  /** `<kind>/<scope>` of documents that changed. */
  readonly #wantDocuments = new Set<string>();
  #wantBrokers = false;
  #wantEdges = new Set<string>();
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
   * The merged configuration of module `id` of `kind` (global → its group → itself); for an
   * edge without a broker of its own, the pool's choice, and without `updates` of its own, the
   * CDN mirrors ranked for it (the devicehub configuration's `cdn` pool). Undefined for an unknown edge.
   * With `pin`, one scope's document is replaced (not cached).
   */
  resolve(kind: ConfigKind, id: string, pin?: ConfigPin): ResolvedConfig | undefined {
    const cacheKey = `${kind}\u0000${id}`;
    if (pin === undefined && this.#resolved.has(cacheKey)) return this.#resolved.get(cacheKey);
    let result: ResolvedConfig | undefined;
    if (kind !== 'edge' || this.#edges.groups.has(id)) {
      const group = kind === 'edge' ? this.#edges.groups.get(id) : undefined;
      const scopes = ['global', ...(group ? [`group:${group}`] : []), `module:${id}`];
      let body: Record<string, unknown> = {};
      for (const scope of scopes) {
        const doc = pin?.scope === scope ? pin : this.#docs.get(`${kind}\u0000${scope}`);
        if (doc?.body !== undefined) body = mergeConfig(body, doc.body);
      }
      const credentials = kind === 'edge' ? this.#edges.credentialsOf(id) : undefined;
      // A rotation changes the configuration, so the edge's long-poll hears of it at once.
      if (credentials !== undefined) body = { ...body, credentials: { version: credentials } };
      if (kind === 'edge' && body.broker === undefined) {
        const broker = assignBroker(id, this.#brokers);
        if (broker !== undefined) body = { ...body, broker: brokerConfig(broker) };
      }
      // The CDN mirrors ranked for this edge, from the devicehub configuration's `cdn` pool.
      if (kind === 'edge' && body.updates === undefined) {
        const updates = updatesConfig(id, cdnPoolOf(this.#docs.get('devicehub\u0000global')?.body));
        if (updates !== undefined) body = { ...body, updates };
      }
      const etag = `"${createHash('sha1').update(JSON.stringify(body)).digest('base64url')}"`;
      result = { body, etag };
    }
    if (pin === undefined) this.#resolved.set(cacheKey, result);
    return result;
  }

  /** An edge's group (null: none; undefined: not registered). */
  groupOf(id: string): string | null | undefined {
    return this.#edges.groups.get(id);
  }

  /** Every registered edge and its group (null: none), as of the last reload (a new map each reload). */
  edgeGroups(): ReadonlyMap<string, string | null> {
    return this.#edges.groups;
  }

  /**
   * Every registered edge's building, for the fleet's counts (fleet-signals/recount.ts): its
   * `building` label, else its group, else `none`. Made once per reload, when first asked: a
   * recount reads no database (it read 50,000 rows of the registry every 30 s, 175-190 ms of a
   * gateway's main thread on PGlite).
   */
  edgeBuildings(): ReadonlyMap<string, string> {
    return this.#edges.buildings();
  }

  /** The current version of a document, if there is one. */
  documentVersion(kind: ConfigKind, scope: string): number | undefined {
    return this.#docs.get(`${kind}\u0000${scope}`)?.version;
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
    return this.#waiters.wait(ms, signal, about === undefined ? undefined : `${about.kind}\u0000${about.id}`);
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
    this.#wantAll = this.#wantBrokers = false;
    this.#wantDocuments.clear();
    this.#wantEdges.clear();
    try {
      if (all) await this.#reloadAll();
      else {
        const modules = documents.map(moduleDocument);
        if (pool || modules.includes(undefined)) await this.#reloadTables(documents.length > 0, pool);
        else if (documents.length > 0) await this.#reloadModules(modules as ModuleDocument[]);
        if (ids.length > 0) await this.#reloadEdges(ids);
      }
    } catch (error) {
      this.#failed = toError(error);
      this.#log.warn({ err: this.#failed }, 'could not reload the fleet view; keeping the last one');
    }
  }

  /**
   * The documents and/or the broker pool (small tables): every resolved configuration is made
   * afresh. The fingerprint stays the last whole reload's, as for an edge's rows.
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
    // Only modules' documents changed (or none): only their configurations, and long-polls.
    const modules = changed?.map((key) => moduleDocument(key.replace('\u0000', '/')));
    if (!pool && modules !== undefined && !modules.includes(undefined)) {
      const keys = (modules as ModuleDocument[]).map((m) => `${m.kind}\u0000${m.id}`);
      for (const key of keys) this.#resolved.delete(key);
      this.#waiters.wake(keys);
      return;
    }
    this.#resolved = new Map();
    this.#waiters.wake();
  }

  /**
   * Documents of one module each (`module:<id>`: one edge's log level, say): those rows only, and
   * only those modules' configurations made afresh and their long-polls woken. Reading every
   * document and waking every long-poll for one edge's document cost the whole fleet's.
   */
  async #reloadModules(modules: readonly ModuleDocument[]): Promise<void> {
    const { db } = this.#o;
    const keys: string[] = [];
    for (const m of modules) {
      const [row] = await db
        .select()
        .from(configDocuments)
        .where(and(eq(configDocuments.kind, m.kind), eq(configDocuments.scope, `module:${m.id}`)));
      const key = `${m.kind}\u0000module:${m.id}`;
      if (row === undefined) this.#docs.delete(key);
      else this.#docs.set(key, { version: row.version, body: row.body });
      keys.push(`${m.kind}\u0000${m.id}`);
    }
    for (const key of keys) this.#resolved.delete(key);
    this.#waiters.wake(keys);
  }

  /**
   * These edges' rows only, over the view in place (FleetEdges.patch). The fingerprint stays the
   * last whole reload's: a change whose notice was lost is still seen by the next refresh.
   */
  async #reloadEdges(ids: readonly string[]): Promise<void> {
    const rows = await this.#o.db.select(edgeColumns).from(edges).where(inArray(edges.id, ids));
    this.#edges.patch(ids, rows);
    const keys = ids.map((id) => `edge\u0000${id}`);
    for (const key of keys) this.#resolved.delete(key);
    this.#waiters.wake(keys);
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
    this.#resolved = new Map();
    this.#waiters.wake();
  }

  /**
   * The periodic safety net for a lost change notice: a cheap fingerprint of each table first;
   * the edges moved, the whole view reloaded (every edge's row; every resolved configuration
   * recomputed); only the documents or the brokers moved, those tables — with thousands of edges
   * the edges' reload is what costs.
   */
  async #refresh(): Promise<void> {
    try {
      const now = await fingerprintOf(this.#o.db);
      const last = this.#fingerprint;
      if (last === undefined || now.edges !== last.edges) return await this.reload();
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
