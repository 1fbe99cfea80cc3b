/**
 * The gateway's sealing key: 32 random bytes in a file (`sealing.key`, mode 0600, beside the fleet
 * CA's key, generated at the demo's first start), never in the database. A secret that must wait
 * for its edge (a rotation's new secret) is stored sealed with it: AES-256-GCM, the edge id as
 * associated data, so a sealed value copied to another edge's row does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileOnce } from '../../edge/identity/mod.ts';
import { CredentialsError } from './errors.ts';

export const SEALING_KEY_FILE = 'sealing.key';
const VERSION = 'v1';

export interface SealingKey {
  /** `v1.<iv>.<ciphertext+tag>`, base64url. */
  seal(plaintext: string, context: string): string;
  /** Throws CredentialsError SEALED_INVALID when the value was not sealed by this key for `context`. */
  unseal(sealed: string, context: string): string;
}

export function sealingKey(key: Buffer): SealingKey {
  if (key.length !== 32) throw new CredentialsError('SEALED_INVALID', 'The sealing key must be 32 bytes');
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    unseal(sealed, context) {
      const [version, iv, body] = sealed.split('.');
      if (version !== VERSION || iv === undefined || body === undefined)
        throw new CredentialsError('SEALED_INVALID', 'Not a sealed value of this gateway');
      try {
        const data = Buffer.from(body, 'base64url');
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(data.subarray(data.length - 16));
        return Buffer.concat([
          decipher.update(data.subarray(0, data.length - 16)),
          decipher.final(),
        ]).toString('utf8');
      } catch (error) {
        throw new CredentialsError('SEALED_INVALID', 'A sealed value did not open with this key', {
          cause: error,
        });
      }
    },
  };
}

/** Loads `<dir>/sealing.key`, or with `create` writes a new one there when it is missing. */
export async function loadSealingKey(options: { dir: string; create?: boolean }): Promise<SealingKey> {
  const path = join(options.dir, SEALING_KEY_FILE);
  try {
    return sealingKey(Buffer.from((await readFile(path, 'utf8')).trim(), 'base64'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!options.create) throw new CredentialsError('KEY_MISSING', `No sealing key at ${path}`);
  }
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // Another process's key linked in first (the two gateways of `devicehub cluster` start together): use theirs.
  if (!(await createFileOnce(path, `${key.toString('base64')}\n`)))
    return loadSealingKey({ dir: options.dir });
  return sealingKey(key);
}
