/**
 * The repository's signing keys, from files the operator provides: one ed25519 private key per
 * file (PKCS8 PEM) named `<role>-<name>.pem` (`root-1.pem`, `targets-1.pem`, `targets-2.pem`, …)
 * and `roles.json` with each role's threshold and expiry:
 *
 *   { "root": { "threshold": 1, "expiresSeconds": 31536000 }, "targets": {…}, "snapshot": {…}, "timestamp": {…} }
 *
 * A role trusts every key file it has and the hub signs with all of them; the threshold (at most
 * the number of keys) is what a client demands. `createTufKeys` writes what is missing (the demo's
 * `.devicehub/tuf`, `--tuf-create`); an operator's own keys are never overwritten.
 */
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Key, Signature } from '@tufjs/models';
import { createFileOnce } from '../../edge/identity/mod.ts';
import { TufError } from './errors.ts';

export const TUF_ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
export type TufRole = (typeof TUF_ROLES)[number];

export interface RolePolicy {
  /** How many of the role's keys must sign its metadata. */
  readonly threshold: number;
  /** How long a version of the role's metadata stays valid. */
  readonly expiresSeconds: number;
}

/** One key the hub signs with: its TUF key id, public part and a signer. */
export interface TufSigner {
  readonly keyId: string;
  readonly key: Key;
  sign(data: Buffer): Signature;
}

export interface TufRoleKeys extends RolePolicy {
  readonly signers: readonly TufSigner[];
}

export type TufKeys = Readonly<Record<TufRole, TufRoleKeys>>;

/** Root a year, targets 90 days, snapshot a week, timestamp a day (re-signed at half of it). */
export const DEFAULT_ROLE_POLICY: Readonly<Record<TufRole, RolePolicy>> = {
  root: { threshold: 1, expiresSeconds: 365 * 86400 },
  targets: { threshold: 1, expiresSeconds: 90 * 86400 },
  snapshot: { threshold: 1, expiresSeconds: 7 * 86400 },
  timestamp: { threshold: 1, expiresSeconds: 86400 },
};

const KEY_FILE = /^(root|targets|snapshot|timestamp)-([A-Za-z0-9_.-]+)\.pem$/;

/** Reads the keys folder; throws TufError naming the file or role that is wrong. */
export async function loadTufKeys(dir: string): Promise<TufKeys> {
  let files: string[];
  try {
    files = (await readdir(dir)).sort();
  } catch (error) {
    throw new TufError('TUF_KEYS', `Cannot read the TUF keys folder ${dir}`, { cause: error });
  }
  const policy = await readRoles(join(dir, 'roles.json'));
  const signers: Record<TufRole, TufSigner[]> = { root: [], targets: [], snapshot: [], timestamp: [] };
  for (const file of files) {
    const match = KEY_FILE.exec(file);
    if (match === null) continue;
    signers[match[1] as TufRole].push(signerOf(join(dir, file), await readFile(join(dir, file), 'utf8')));
  }
  const keys = {} as Record<TufRole, TufRoleKeys>;
  for (const role of TUF_ROLES) {
    const { threshold, expiresSeconds } = policy[role];
    if (signers[role].length < threshold)
      throw new TufError(
        'TUF_KEYS',
        `Cannot sign ${role}: threshold ${threshold} needs ${threshold} key files ${role}-*.pem in ${dir}, found ${signers[role].length}`,
      );
    keys[role] = { threshold, expiresSeconds, signers: signers[role] };
  }
  return keys;
}

export interface CreateTufKeysOptions {
  /** Thresholds and expiries for a new roles.json (default DEFAULT_ROLE_POLICY). */
  readonly roles?: Partial<Record<TufRole, Partial<RolePolicy>>>;
}

/** Writes roles.json and one key per threshold for each role where missing, then loads the folder. */
export async function createTufKeys(dir: string, options: CreateTufKeysOptions = {}): Promise<TufKeys> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = await readdir(dir);
  if (!files.includes('roles.json')) {
    const roles = Object.fromEntries(
      TUF_ROLES.map((r) => [r, { ...DEFAULT_ROLE_POLICY[r], ...options.roles?.[r] }]),
    );
    await createFileOnce(join(dir, 'roles.json'), `${JSON.stringify(roles, null, 2)}\n`);
  }
  const policy = await readRoles(join(dir, 'roles.json'));
  for (const role of TUF_ROLES) {
    const have = files.filter((f) => KEY_FILE.exec(f)?.[1] === role).length;
    for (let i = have + 1; i <= policy[role].threshold; i++) {
      const { privateKey } = generateKeyPairSync('ed25519');
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      await createFileOnce(join(dir, `${role}-${i}.pem`), pem);
    }
  }
  return await loadTufKeys(dir);
}

async function readRoles(file: string): Promise<Record<TufRole, RolePolicy>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new TufError('TUF_ROLES', `Cannot read ${file} (JSON with a threshold and expiry per role)`, {
      cause: error,
    });
  }
  const roles = {} as Record<TufRole, RolePolicy>;
  for (const role of TUF_ROLES) {
    const entry = (parsed as Record<string, Partial<RolePolicy> | undefined>)[role];
    const threshold = entry?.threshold;
    const expiresSeconds = entry?.expiresSeconds;
    if (!(Number.isInteger(threshold) && (threshold as number) >= 1))
      throw new TufError('TUF_ROLES', `${file}: ${role}.threshold must be an integer ≥ 1, got ${threshold}`);
    if (!(Number.isInteger(expiresSeconds) && (expiresSeconds as number) >= 1))
      throw new TufError(
        'TUF_ROLES',
        `${file}: ${role}.expiresSeconds must be an integer ≥ 1, got ${expiresSeconds}`,
      );
    roles[role] = { threshold: threshold as number, expiresSeconds: expiresSeconds as number };
  }
  return roles;
}

function signerOf(file: string, pem: string): TufSigner {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new TufError('TUF_KEYS', `${file} is not a PKCS8 PEM private key`, { cause: error });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new TufError(
      'TUF_KEYS',
      `${file} is a ${privateKey.asymmetricKeyType} key; TUF keys here are ed25519`,
    );
  const jwk = privateKey.export({ format: 'jwk' });
  const publicHex = Buffer.from(jwk.x as string, 'base64url').toString('hex');
  // The key id is the SHA-256 of the key's canonical JSON (sorted keys, no spaces; nothing to escape here).
  const canonical = `{"keytype":"ed25519","keyval":{"public":"${publicHex}"},"scheme":"ed25519"}`;
  const keyId = createHash('sha256').update(canonical).digest('hex');
  const key = new Key({ keyID: keyId, keyType: 'ed25519', scheme: 'ed25519', keyVal: { public: publicHex } });
  return {
    keyId,
    key,
    sign: (data) => new Signature({ keyID: keyId, sig: sign(null, data, privateKey).toString('hex') }),
  };
}
