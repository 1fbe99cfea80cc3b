/**
 * The four top-level roles' metadata, built with @tufjs/models and signed by every key the role
 * has (threshold ≤ keys, so a client that demands the threshold is satisfied). Consistent
 * snapshots: the files are served as `<version>.<role>.json`, except `timestamp.json`.
 */
import { Metadata, MetaFile, Root, Snapshot, type TargetFile, Targets, Timestamp } from '@tufjs/models';
import type { TufKeys, TufRole } from './keys.ts';

/** A version of one role's metadata as stored and served: the exact bytes and when they expire. */
export interface SignedFile {
  readonly role: TufRole;
  readonly version: number;
  readonly body: string;
  readonly expiresAt: Date;
}

/** TUF's expiry format: UTC to the second (`2026-11-30T03:50:12Z`). */
function expiryOf(seconds: number, now: number): Date {
  return new Date(Math.floor(now / 1000) * 1000 + seconds * 1000);
}

const tufDate = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

const SPEC_VERSION = '1.0.31';

/** The fields `version` of `role` starts with when signed at `now`, and when it expires. */
function header(keys: TufKeys, role: TufRole, version: number, now: number) {
  const expiresAt = expiryOf(keys[role].expiresSeconds, now);
  return { expiresAt, fields: { version, expires: tufDate(expiresAt), specVersion: SPEC_VERSION } };
}

/** Root `version` naming every role's keys and threshold. */
export function signRoot(keys: TufKeys, version: number, now: number): SignedFile {
  const roleKeys = Object.fromEntries(
    Object.entries(keys).flatMap(([, r]) => r.signers.map((s) => [s.keyId, s.key.toJSON()])),
  );
  const roles = Object.fromEntries(
    Object.entries(keys).map(([role, r]) => [
      role,
      { keyids: r.signers.map((s) => s.keyId), threshold: r.threshold },
    ]),
  );
  const expiresAt = expiryOf(keys.root.expiresSeconds, now);
  const signed = Root.fromJSON({
    _type: 'root',
    spec_version: SPEC_VERSION,
    version,
    expires: tufDate(expiresAt),
    keys: roleKeys,
    roles,
    consistent_snapshot: true,
  });
  return finish('root', keys, new Metadata(signed), expiresAt);
}

/** Targets `version` listing `targets`. */
export function signTargets(
  keys: TufKeys,
  version: number,
  targets: Record<string, TargetFile>,
  now: number,
): SignedFile {
  const { expiresAt, fields } = header(keys, 'targets', version, now);
  return finish('targets', keys, new Metadata(new Targets({ ...fields, targets })), expiresAt);
}

/** Snapshot `version` naming targets `targetsVersion`. */
export function signSnapshot(
  keys: TufKeys,
  version: number,
  targetsVersion: number,
  now: number,
): SignedFile {
  const { expiresAt, fields } = header(keys, 'snapshot', version, now);
  const meta = { 'targets.json': new MetaFile({ version: targetsVersion }) };
  return finish('snapshot', keys, new Metadata(new Snapshot({ ...fields, meta })), expiresAt);
}

/** Timestamp `version` naming snapshot `snapshotVersion`. */
export function signTimestamp(
  keys: TufKeys,
  version: number,
  snapshotVersion: number,
  now: number,
): SignedFile {
  const { expiresAt, fields } = header(keys, 'timestamp', version, now);
  const snapshotMeta = new MetaFile({ version: snapshotVersion });
  return finish('timestamp', keys, new Metadata(new Timestamp({ ...fields, snapshotMeta })), expiresAt);
}

/** The targets a stored targets file lists. */
export function targetsOf(body: string): Record<string, TargetFile> {
  return { ...Targets.fromJSON(JSON.parse(body).signed).targets };
}

/** What differs between the stored root and the keys the hub has (empty: the same trust). */
export function rootDifferences(body: string, keys: TufKeys): string[] {
  const root = Root.fromJSON(JSON.parse(body).signed);
  const differences: string[] = [];
  for (const [role, r] of Object.entries(keys)) {
    const stored = root.roles[role];
    const ids = r.signers.map((s) => s.keyId).sort();
    if (stored === undefined) differences.push(`${role}: not in the stored root`);
    else {
      if (stored.threshold !== r.threshold)
        differences.push(`${role}: threshold ${stored.threshold} stored, ${r.threshold} in roles.json`);
      if ([...stored.keyIDs].sort().join() !== ids.join())
        differences.push(`${role}: other keys than the stored root's (${stored.keyIDs.length} stored)`);
    }
  }
  return differences;
}

function finish(
  role: TufRole,
  keys: TufKeys,
  metadata: Metadata<Root | Targets | Snapshot | Timestamp>,
  expiresAt: Date,
): SignedFile {
  for (const signer of keys[role].signers) metadata.sign((data) => signer.sign(data));
  return {
    role,
    version: metadata.signed.version,
    body: JSON.stringify(metadata.toJSON()),
    expiresAt,
  };
}
