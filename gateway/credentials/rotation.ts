/**
 * Rotating an edge's secret without losing a message: `rotate` makes a new secret, keeps the old
 * one's hash as the previous secret until the grace period ends, and leaves the new one sealed for
 * the edge, whose configuration changes (`credentials.version`) so its long-poll hears at once.
 * The edge fetches its configuration with the old secret and gets the new one; its next request
 * with the new secret confirms it (`confirm`): the broker's password becomes the new secret (its
 * old session is kicked and the agent reconnects with the new one) and the old secret stops. At
 * the end of the grace period without a confirmation (`expire`, on every gateway), the old secret
 * stops anyway and the broker takes the new one.
 */
import { and, eq, isNotNull, lt } from 'drizzle-orm';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import type { BrokerIdentities } from '../../edge/broker/mod.ts';
import type { EdgeKafkaCredentials } from '../../edge/kafka-auth/mod.ts';
import type { Db } from '../db/database.ts';
import { edges } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import type { FleetView } from '../fleet-view.ts';
import { hashSecret, newSecret } from '../secrets.ts';
import type { SealingKey } from './sealing.ts';

/** Default and bounds of a rotation's grace period. */
export const GRACE_SECONDS = { default: 24 * 3600, min: 10, max: 30 * 24 * 3600 } as const;

export interface EdgeRotationsOptions {
  readonly db: Db;
  readonly sealing: SealingKey;
  readonly view: FleetView;
  /** The broker's identities, when the gateway manages them. */
  readonly broker?: BrokerIdentities;
  /** Edges' Kafka credentials, when the gateway manages them: their password moves with the broker's. */
  readonly kafka?: EdgeKafkaCredentials;
  /** This gateway's credential cache, forgotten at once (other gateways hear through the view). */
  readonly auth?: { forget(edgeId?: string): void };
  readonly logger?: Logger;
}

export interface Rotation {
  readonly id: string;
  readonly credentialsVersion: number;
  /** The old secret stops then at the latest (earlier once the edge confirms the new one). */
  readonly graceUntil: Date;
}

export class EdgeRotations {
  readonly #o: EdgeRotationsOptions;
  readonly #log: Logger;

  constructor(options: EdgeRotationsOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ component: 'edge-rotations' });
  }

  async rotate(id: string, graceSeconds: number): Promise<Rotation> {
    const { db, sealing } = this.#o;
    const [row] = await db.select().from(edges).where(eq(edges.id, id));
    if (row === undefined) throw new ApiError('NOT_FOUND', `No edge ${id}`);
    const secret = newSecret('dhe');
    const graceUntil = new Date(Date.now() + graceSeconds * 1000);
    // A rotation still waiting keeps the secret the edge holds now as the previous one.
    const previous =
      row.pendingSecret !== null && row.previousSecretHash !== null ? row.previousSecretHash : row.secretHash;
    const [updated] = await db
      .update(edges)
      .set({
        secretHash: hashSecret(secret),
        previousSecretHash: previous,
        previousSecretUntil: graceUntil,
        pendingSecret: sealing.seal(secret, id),
        credentialsVersion: row.credentialsVersion + 1,
      })
      .where(and(eq(edges.id, id), eq(edges.credentialsVersion, row.credentialsVersion)))
      .returning({ version: edges.credentialsVersion });
    if (updated === undefined) throw new ApiError('CONFLICT', `Edge ${id} was rotated meanwhile; retry`);
    this.#log.info(
      { edgeId: id, credentialsVersion: updated.version, graceUntil },
      'edge secret rotation started',
    );
    await this.#o.view.changed(`edge/${id}`);
    return { id, credentialsVersion: updated.version, graceUntil };
  }

  /** The new secret for its edge (the edge asked with a secret of its own), or undefined when none waits. */
  async pendingSecret(id: string): Promise<string | undefined> {
    const [row] = await this.#o.db
      .select({ pending: edges.pendingSecret })
      .from(edges)
      .where(eq(edges.id, id));
    return row?.pending == null ? undefined : this.#o.sealing.unseal(row.pending, id);
  }

  /** The edge used its new secret: the broker takes it, the old secret stops. */
  async confirm(id: string, secret: string): Promise<void> {
    await this.#o.broker?.setPasswords([{ id, password: secret }]);
    await this.#o.kafka?.ensureEdge(id, secret);
    const done = await this.#o.db
      .update(edges)
      .set({ pendingSecret: null, previousSecretHash: null, previousSecretUntil: null })
      .where(and(eq(edges.id, id), eq(edges.secretHash, hashSecret(secret))))
      .returning({ id: edges.id });
    if (done.length === 0) return;
    this.#log.info({ edgeId: id }, 'edge confirmed its new secret; the old one stopped');
    this.#o.auth?.forget(id);
    await this.#o.view.changed(`edge/${id}`);
  }

  /** Ends the grace periods that are over: returns the edges whose old secret stopped. */
  async expire(now = new Date()): Promise<string[]> {
    const { db, sealing } = this.#o;
    const due = await db
      .select({ id: edges.id, pending: edges.pendingSecret, until: edges.previousSecretUntil })
      .from(edges)
      .where(and(isNotNull(edges.previousSecretUntil), lt(edges.previousSecretUntil, now)));
    const stopped: string[] = [];
    for (const row of due) {
      if (row.pending !== null) {
        const secret = sealing.unseal(row.pending, row.id);
        await this.#o.broker?.setPasswords([{ id: row.id, password: secret }]);
        await this.#o.kafka?.ensureEdge(row.id, secret);
      }
      const done = await db
        .update(edges)
        .set({ pendingSecret: null, previousSecretHash: null, previousSecretUntil: null })
        .where(and(eq(edges.id, row.id), eq(edges.previousSecretUntil, row.until!)))
        .returning({ id: edges.id });
      if (done.length > 0) stopped.push(row.id);
    }
    if (stopped.length > 0) {
      this.#log.warn(
        { count: stopped.length, edges: stopped.slice(0, 20) },
        'grace periods ended: the old secrets stopped (edges that had not fetched the new one must be re-provisioned)',
      );
      for (const id of stopped) this.#o.auth?.forget(id);
      // Said together, the view reads their rows in one or two passes, not one pass each.
      await Promise.all(stopped.map((id) => this.#o.view.changed(`edge/${id}`)));
    }
    return stopped;
  }
}
