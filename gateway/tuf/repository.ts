/**
 * The hub's TUF repository over the gateway's database: every signed version of root, targets,
 * snapshot and timestamp is a row of `tuf_metadata`, so every gateway serves the same bytes.
 * Signing is serialized across gateways by a row lock (`tuf_signing … for update`) inside the
 * transaction that reads the newest versions and inserts the next ones, so two gateways adding
 * targets at once produce versions N+1 and N+2, never two N+1s.
 *
 * A release (new targets) re-signs targets, snapshot and timestamp together. Upkeep re-signs any
 * role with less than half its lifetime left (the timestamp daily, the rest rarely); root is
 * re-signed with the same keys only — rotating keys is out of scope (see docs/decisions/023).
 */
import { TargetFile } from '@tufjs/models';
import { and, desc, eq, lt } from 'drizzle-orm';
import type { Logger } from '../../actors/mod.ts';
import type { Db } from '../db/database.ts';
import { tufMetadata, tufSigning } from '../db/schema.ts';
import { TufError } from './errors.ts';
import { TUF_ROLES, type TufKeys, type TufRole } from './keys.ts';
import {
  rootDifferences,
  type SignedFile,
  signRoot,
  signSnapshot,
  signTargets,
  signTimestamp,
  targetsOf,
} from './metadata.ts';

/** A file to sign as a target: `path` is `<kind>/<name>/<version>/<fileName>` for artifacts. */
export interface TufTargetInput {
  readonly path: string;
  readonly length: number;
  readonly sha256: string;
  readonly custom?: Readonly<Record<string, unknown>>;
}

/** The newest version of each role, as the repository sees it now. */
export type TufVersions = Record<TufRole, { version: number; expiresAt: Date }>;

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type Latest = Partial<Record<TufRole, { version: number; body: string; expiresAt: Date }>>;

export interface TufRepositoryOptions {
  readonly log: Logger;
  /** The clock (ms), for tests. */
  readonly now?: () => number;
}

const SHA256 = /^[0-9a-f]{64}$/;
/** The largest version a role can have (an `integer` column). */
const MAX_VERSION = 2 ** 31 - 1;
/** Versioned files served from memory once read (they never change). */
const CACHED_FILES = 256;

export class TufRepository {
  readonly #db: Db;
  readonly #keys: TufKeys;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #immutable = new Map<string, SignedFile>();

  private constructor(db: Db, keys: TufKeys, options: TufRepositoryOptions) {
    this.#db = db;
    this.#keys = keys;
    this.#log = options.log.child({ component: 'tuf' });
    this.#now = options.now ?? Date.now;
  }

  /**
   * The repository over `db`, signing its first versions if it has none; throws TufError
   * TUF_ROOT_MISMATCH when the keys or thresholds differ from the stored root's.
   */
  static async open(db: Db, keys: TufKeys, options: TufRepositoryOptions): Promise<TufRepository> {
    const repository = new TufRepository(db, keys, options);
    await repository.#publish({ upkeep: false });
    return repository;
  }

  /**
   * Adds targets and publishes a release (targets, snapshot and timestamp) when any is new.
   * Adding a target again with the same hash and length is a no-op; with others it is refused
   * (TUF_TARGET): a published path never changes meaning.
   */
  async addTargets(inputs: readonly TufTargetInput[]): Promise<TufVersions> {
    const files = inputs.map(toTargetFile);
    return await this.#publish({ upkeep: false, targets: files });
  }

  /** Re-signs every role with less than half its lifetime left (and those that depend on it). */
  async upkeep(): Promise<TufVersions> {
    return await this.#publish({ upkeep: true });
  }

  /** The newest version of each role. */
  async versions(): Promise<TufVersions> {
    // One query without the bodies: every /metrics scrape reads this, and targets grows with the catalog.
    const rows = await this.#db
      .selectDistinctOn([tufMetadata.role], {
        role: tufMetadata.role,
        version: tufMetadata.version,
        expiresAt: tufMetadata.expiresAt,
      })
      .from(tufMetadata)
      .orderBy(tufMetadata.role, desc(tufMetadata.version));
    const out = {} as TufVersions;
    for (const role of TUF_ROLES) {
      const row = rows.find((r) => r.role === role);
      if (row === undefined) throw new Error(`TUF repository has no ${role} metadata`);
      out[role] = { version: row.version, expiresAt: row.expiresAt };
    }
    return out;
  }

  /**
   * A metadata file by its served name: `timestamp.json` (the newest) or `<version>.<role>.json`
   * for root, targets and snapshot; undefined when there is none.
   */
  async file(name: string): Promise<SignedFile | undefined> {
    if (name === 'timestamp.json') return await this.#latestTimestamp();
    const match = /^([1-9]\d{0,9})\.(root|targets|snapshot)\.json$/.exec(name);
    // Versions are PostgreSQL integers: a larger number names no version (not a query error).
    if (match === null || Number(match[1]) > MAX_VERSION) return undefined;
    const cached = this.#immutable.get(name);
    if (cached !== undefined) return cached;
    const role = match[2] as TufRole;
    const [row] = await this.#db
      .select()
      .from(tufMetadata)
      .where(and(eq(tufMetadata.role, role), eq(tufMetadata.version, Number(match[1]))));
    if (row === undefined) return undefined;
    const file = { role, version: row.version, body: row.body, expiresAt: row.expiresAt };
    if (this.#immutable.size >= CACHED_FILES) this.#immutable.clear();
    this.#immutable.set(name, file);
    return file;
  }

  async #publish(o: { upkeep: boolean; targets?: TargetFile[] }): Promise<TufVersions> {
    const signed = await this.#db.transaction(async (tx) => {
      await tx.select().from(tufSigning).where(eq(tufSigning.id, 1)).for('update');
      const latest = await this.#newest(tx);
      const next = this.#sign(latest, o);
      for (const file of next) {
        await tx.insert(tufMetadata).values({
          role: file.role,
          version: file.version,
          body: file.body,
          expiresAt: file.expiresAt,
        });
        latest[file.role] = file;
      }
      const timestamp = next.find((f) => f.role === 'timestamp');
      if (timestamp !== undefined)
        await tx
          .delete(tufMetadata)
          .where(and(eq(tufMetadata.role, 'timestamp'), lt(tufMetadata.version, timestamp.version)));
      return { next, latest };
    });
    if (signed.next.length > 0)
      this.#log.info(
        { signed: signed.next.map((f) => `${f.version}.${f.role}`) },
        o.targets ? 'tuf release signed' : 'tuf metadata signed',
      );
    const out = {} as TufVersions;
    for (const role of TUF_ROLES) {
      const file = signed.latest[role];
      if (file !== undefined) out[role] = { version: file.version, expiresAt: file.expiresAt };
    }
    return out;
  }

  /** The files to sign now, in order (root, targets, snapshot, timestamp). */
  #sign(latest: Latest, o: { upkeep: boolean; targets?: TargetFile[] }): SignedFile[] {
    const now = this.#now();
    const keys = this.#keys;
    const due = (role: TufRole) => {
      const file = latest[role];
      if (file === undefined) return true;
      return o.upkeep && file.expiresAt.getTime() - now < (keys[role].expiresSeconds * 1000) / 2;
    };
    const next: SignedFile[] = [];
    const root = latest.root;
    if (root !== undefined) {
      const differences = rootDifferences(root.body, keys);
      if (differences.length > 0)
        throw new TufError(
          'TUF_ROOT_MISMATCH',
          `The TUF keys differ from root version ${root.version} in the database (${differences.join('; ')}); rotating keys is not supported`,
        );
    }
    if (due('root')) next.push(signRoot(keys, (root?.version ?? 0) + 1, now));
    const current = latest.targets === undefined ? {} : targetsOf(latest.targets.body);
    const added = newTargets(current, o.targets ?? []);
    let changed = false;
    if (added.length > 0 || due('targets')) {
      for (const t of added) current[t.path] = t;
      next.push(signTargets(keys, (latest.targets?.version ?? 0) + 1, current, now));
      changed = true;
    }
    if (changed || due('snapshot')) {
      const targetsVersion = next.find((f) => f.role === 'targets')?.version ?? latest.targets?.version ?? 1;
      next.push(signSnapshot(keys, (latest.snapshot?.version ?? 0) + 1, targetsVersion, now));
      changed = true;
    }
    if (changed || due('timestamp')) {
      const snapshotVersion =
        next.find((f) => f.role === 'snapshot')?.version ?? latest.snapshot?.version ?? 1;
      next.push(signTimestamp(keys, (latest.timestamp?.version ?? 0) + 1, snapshotVersion, now));
    }
    return next;
  }

  /** The newest version of every role, in one query. */
  async #newest(tx: Tx): Promise<Latest> {
    const rows = await tx
      .selectDistinctOn([tufMetadata.role])
      .from(tufMetadata)
      .orderBy(tufMetadata.role, desc(tufMetadata.version));
    const latest: Latest = {};
    for (const row of rows)
      latest[row.role] = { version: row.version, body: row.body, expiresAt: row.expiresAt };
    return latest;
  }

  async #latestTimestamp(): Promise<SignedFile | undefined> {
    const [row] = await this.#db
      .select()
      .from(tufMetadata)
      .where(eq(tufMetadata.role, 'timestamp'))
      .orderBy(desc(tufMetadata.version))
      .limit(1);
    return row === undefined
      ? undefined
      : { role: 'timestamp', version: row.version, body: row.body, expiresAt: row.expiresAt };
  }
}

/** The targets not listed yet; a listed path with other hashes or length is refused. */
function newTargets(current: Record<string, TargetFile>, files: readonly TargetFile[]): TargetFile[] {
  const added = new Map<string, TargetFile>();
  for (const file of files) {
    const existing = current[file.path] ?? added.get(file.path);
    if (existing === undefined) added.set(file.path, file);
    else if (existing.length !== file.length || existing.hashes.sha256 !== file.hashes.sha256)
      throw new TufError(
        'TUF_TARGET',
        `Target ${file.path} is already signed with sha256 ${existing.hashes.sha256} (${existing.length} bytes); got ${file.hashes.sha256} (${file.length} bytes)`,
      );
  }
  return [...added.values()];
}

function toTargetFile(t: TufTargetInput): TargetFile {
  const parts = t.path.split('/');
  if (t.path.length > 512 || parts.some((p) => p === '' || p === '.' || p === '..'))
    throw new TufError(
      'TUF_TARGET',
      `Target path must be relative segments without . or .., got "${t.path}"`,
    );
  if (!SHA256.test(t.sha256))
    throw new TufError(
      'TUF_TARGET',
      `Target ${t.path}: sha256 must be 64 lowercase hex digits, got "${t.sha256}"`,
    );
  if (!(Number.isSafeInteger(t.length) && t.length >= 0))
    throw new TufError('TUF_TARGET', `Target ${t.path}: length must be an integer ≥ 0, got ${t.length}`);
  return new TargetFile({
    path: t.path,
    length: t.length,
    hashes: { sha256: t.sha256 },
    ...(t.custom === undefined ? {} : { unrecognizedFields: { custom: { ...t.custom } as never } }),
  });
}
