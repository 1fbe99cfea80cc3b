/**
 * The artifact catalog: uploads checked and stored content-addressed (`receive.ts`, then a move to
 * `artifacts/sha256/<sha256>` and the row), the records, their bytes, the outcome counts /metrics
 * shows, and the hook the TUF repository signs new targets from (`onRegistered`).
 *
 * An upload is refused, leaving nothing behind, when its body is wrong (errors.ts), when its
 * name/version holds other bytes or its bytes are already another name/version (CONFLICT). The
 * same upload again (same bytes, name, version, file name and hardware) answers the existing
 * record: uploads can be retried. The row is written after the object is in place, so a row always
 * has its bytes; an object whose row never came (a crash in between) is the same bytes the next
 * upload of that content moves onto.
 */
import { and, asc, eq, or } from 'drizzle-orm';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import { artifactKey, type ObjectRead, type ObjectStore } from '../../objects/mod.ts';
import type { Db } from '../db/database.ts';
import { type ArtifactKind, artifacts } from '../db/schema.ts';
import { ArtifactError, type ArtifactRefusal } from './errors.ts';
import { receiveUpload } from './receive.ts';

/** What the TUF signer and the rollouts need of an artifact (the kind as any string: their fakes). */
export interface ArtifactIdentity {
  readonly sha256: string;
  readonly kind: string;
  readonly name: string;
  readonly version: string;
  readonly hardware: readonly string[];
  readonly size: number;
  readonly fileName: string;
}

export interface ArtifactRecord extends ArtifactIdentity {
  readonly kind: ArtifactKind;
  readonly hardware: string[];
  /** ISO 8601. */
  readonly createdAt: string;
}

export interface ArtifactUpload {
  readonly kind: ArtifactKind;
  readonly name: string;
  readonly version: string;
  readonly hardware: readonly string[];
  readonly fileName: string;
  /** Who uploads (the audit's actor). */
  readonly actor: string;
  /** The hash the client says the bytes have (`x-content-sha256`). */
  readonly expectedSha256?: string;
  readonly contentLength?: number;
  readonly signal?: AbortSignal;
}

/** 2 GB: the largest artifact by default (a full system image of an RV1126 box fits). */
export const DEFAULT_MAX_ARTIFACT_BYTES = 2 * 1024 ** 3;

export interface ArtifactCatalogOptions {
  readonly maxBytes?: number;
  readonly logger?: Logger;
}

/** Upload outcomes since start: `stored`, `duplicate`, or a refusal's code. */
export type UploadOutcome = 'stored' | 'duplicate' | ArtifactRefusal;

export class ArtifactCatalog {
  readonly store: ObjectStore;
  readonly maxBytes: number;
  /** Uploads by outcome, for /metrics. */
  readonly outcomes = new Map<UploadOutcome, number>();
  readonly #db: Db;
  readonly #log: Logger;
  readonly #listeners: ((a: ArtifactRecord) => Promise<void>)[] = [];

  constructor(db: Db, store: ObjectStore, options: ArtifactCatalogOptions = {}) {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
      throw new Error(
        `Cannot create the artifact catalog: maxBytes must be a positive integer, got ${maxBytes}`,
      );
    this.#db = db;
    this.store = store;
    this.maxBytes = maxBytes;
    this.#log = (options.logger ?? silentLogger).child({ component: 'artifacts' });
  }

  /**
   * Calls `fn` with every artifact this gateway registers, after its row is written and before
   * the upload is answered (the TUF repository signs the new target). A listener that fails is
   * logged; the artifact stays registered.
   */
  onRegistered(fn: (a: ArtifactRecord) => Promise<void>): void {
    this.#listeners.push(fn);
  }

  /** Stores an upload's body and registers it; `created` false: the same upload was there. */
  async upload(
    body: ReadableStream<Uint8Array> | null,
    u: ArtifactUpload,
  ): Promise<{ record: ArtifactRecord; created: boolean }> {
    try {
      const result = await this.#upload(body, u);
      this.#count(result.created ? 'stored' : 'duplicate');
      return result;
    } catch (err) {
      if (err instanceof ArtifactError) this.#count(err.code);
      throw err;
    }
  }

  async get(sha256: string): Promise<ArtifactRecord | undefined> {
    const [row] = await this.#db.select().from(artifacts).where(eq(artifacts.sha256, sha256));
    return row === undefined ? undefined : toRecord(row);
  }

  /** Every artifact, oldest first, optionally of one kind and name. */
  async list(filter: { kind?: ArtifactKind; name?: string } = {}): Promise<ArtifactRecord[]> {
    const rows = await this.#db
      .select()
      .from(artifacts)
      .where(
        and(
          filter.kind === undefined ? undefined : eq(artifacts.kind, filter.kind),
          filter.name === undefined ? undefined : eq(artifacts.name, filter.name),
        ),
      )
      .orderBy(asc(artifacts.createdAt), asc(artifacts.sha256));
    return rows.map(toRecord);
  }

  /** An artifact's bytes (or a range of them); ObjectNotFoundError, RangeNotSatisfiableError. */
  read(
    sha256: string,
    o: { range?: { start: number; end?: number }; signal?: AbortSignal } = {},
  ): Promise<ObjectRead> {
    return this.store.get(artifactKey(sha256), o);
  }

  async #upload(body: ReadableStream<Uint8Array> | null, u: ArtifactUpload) {
    // Refused before a byte is read when the client's hash already contradicts what is registered.
    if (u.expectedSha256 !== undefined) await this.#checkConflict(u, u.expectedSha256);
    const received = await receiveUpload(this.store, body, {
      maxBytes: this.maxBytes,
      ...(u.contentLength === undefined ? {} : { contentLength: u.contentLength }),
      ...(u.signal === undefined ? {} : { signal: u.signal }),
    });
    try {
      if (u.expectedSha256 !== undefined && u.expectedSha256 !== received.sha256)
        throw new ArtifactError(
          'HASH_MISMATCH',
          `The body's SHA-256 is ${received.sha256}, not the ${u.expectedSha256} of x-content-sha256`,
          { sha256: received.sha256, expected: u.expectedSha256 },
        );
      const existing = await this.#checkConflict(u, received.sha256);
      if (existing !== undefined) return { record: existing, created: false };
      await this.store.move(received.key, artifactKey(received.sha256));
      return await this.#insert(u, received);
    } finally {
      await this.store
        .delete(received.key)
        .catch((err: unknown) => this.#log.warn({ err, key: received.key }, 'upload not removed'));
    }
  }

  /** The existing record when it is this very upload; CONFLICT when name/version or bytes are taken. */
  async #checkConflict(u: ArtifactUpload, sha256: string): Promise<ArtifactRecord | undefined> {
    const rows = await this.#db
      .select()
      .from(artifacts)
      .where(
        or(
          eq(artifacts.sha256, sha256),
          // kind, name and version: unique together.
          eq(artifacts.name, u.name),
        ),
      );
    const same = rows.find((r) => r.kind === u.kind && r.name === u.name && r.version === u.version);
    const bytes = rows.find((r) => r.sha256 === sha256);
    if (same !== undefined && same.sha256 === sha256 && sameDetails(same, u)) return toRecord(same);
    if (same !== undefined)
      throw new ArtifactError(
        'CONFLICT',
        same.sha256 === sha256
          ? `${u.kind} ${u.name} ${u.version} is registered with another file name or hardware`
          : `${u.kind} ${u.name} ${u.version} is registered with other bytes (sha256 ${same.sha256}); publish a new version`,
        { existing: toRecord(same) },
      );
    if (bytes !== undefined)
      throw new ArtifactError(
        'CONFLICT',
        `These bytes are registered as ${bytes.kind} ${bytes.name} ${bytes.version} (sha256 ${sha256})`,
        { existing: toRecord(bytes) },
      );
    return undefined;
  }

  async #insert(u: ArtifactUpload, received: { sha256: string; size: number }) {
    const [row] = await this.#db
      .insert(artifacts)
      .values({
        sha256: received.sha256,
        kind: u.kind,
        name: u.name,
        version: u.version,
        hardware: [...u.hardware],
        size: received.size,
        fileName: u.fileName,
        createdBy: u.actor,
      })
      .onConflictDoNothing()
      .returning();
    if (row === undefined) {
      // Another upload registered the same at the same moment: answer as if it came first.
      // Or another name/version took these bytes' place: their object is then no one's.
      try {
        const existing = await this.#checkConflict(u, received.sha256);
        if (existing !== undefined) return { record: existing, created: false };
        throw new Error(`artifact ${received.sha256} neither inserted nor found`);
      } catch (err) {
        if ((await this.get(received.sha256)) === undefined)
          await this.store.delete(artifactKey(received.sha256));
        throw err;
      }
    }
    const record = toRecord(row);
    for (const fn of this.#listeners)
      await fn(record).catch((err: unknown) =>
        this.#log.error({ err, sha256: record.sha256 }, 'an artifact listener failed'),
      );
    return { record, created: true };
  }

  #count(outcome: UploadOutcome): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }
}

function sameDetails(row: typeof artifacts.$inferSelect, u: ArtifactUpload): boolean {
  return (
    row.fileName === u.fileName && [...row.hardware].sort().join(',') === [...u.hardware].sort().join(',')
  );
}

function toRecord(row: typeof artifacts.$inferSelect): ArtifactRecord {
  return {
    sha256: row.sha256,
    kind: row.kind,
    name: row.name,
    version: row.version,
    hardware: row.hardware,
    size: row.size,
    fileName: row.fileName,
    createdAt: row.createdAt.toISOString(),
  };
}
