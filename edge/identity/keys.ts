import { createPrivateKey, createPublicKey, type KeyObject, webcrypto } from 'node:crypto';
import { IdentityError } from './errors.ts';
import { x509 } from './x509.ts';

/** ECDSA P-256 with SHA-256: the fleet CA's and generated edges' keys. */
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type SigningAlgorithm = webcrypto.EcdsaParams | webcrypto.Algorithm;

export const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const EC_SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

const CURVES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384' };
const MAX_KEY_PEM = 16 * 1024;

export function generateEcKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/**
 * Which keys the CA certifies and signs with: EC P-256 or P-384, or RSA of at least 2048 bits.
 * Throws `KEY_UNSUPPORTED` (with `what` in the message) for anything else.
 */
export function checkKeyKind(key: KeyObject, what: string): 'ec' | 'rsa' {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'ec' && details.namedCurve !== undefined && CURVES[details.namedCurve]) return 'ec';
  if (type === 'rsa' && (details.modulusLength ?? 0) >= 2048) return 'rsa';
  const shape = type === 'ec' ? `ec ${details.namedCurve}` : `${type} ${details.modulusLength ?? ''}`.trim();
  throw new IdentityError(
    'KEY_UNSUPPORTED',
    `${what}: the key must be EC P-256/P-384 or RSA ≥ 2048 bits, got ${shape}`,
  );
}

/** A public key in SPKI DER (a CSR's, or one given as PEM), checked to be a kind the CA certifies. */
export function readPublicKey(pem: string, what: string): x509.PublicKey {
  let key: KeyObject;
  try {
    if (typeof pem !== 'string' || pem.length > MAX_KEY_PEM) throw new Error('not a PEM string');
    key = createPublicKey(pem);
  } catch (error) {
    throw new IdentityError('KEY_MALFORMED', `${what}: not a PEM public key`, { cause: error });
  }
  checkKeyKind(key, what);
  return new x509.PublicKey(key.export({ type: 'spki', format: 'der' }));
}

export function checkSpki(spki: ArrayBuffer, what: string): void {
  checkKeyKind(createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }), what);
}

/** The CA's signing key from PEM (PKCS#8 or SEC1/PKCS#1), with the public key it pairs with. */
export async function readSigningKey(
  pem: string,
  what: string,
): Promise<{ key: CryptoKey; algorithm: SigningAlgorithm; spki: Buffer }> {
  let object: KeyObject;
  try {
    object = createPrivateKey(pem);
  } catch (error) {
    throw new IdentityError('CA_MALFORMED', `${what}: not a PEM private key`, { cause: error });
  }
  const kind = checkKeyKind(object, what);
  const pkcs8 = object.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(object).export({ type: 'spki', format: 'der' });
  if (kind === 'ec') {
    const namedCurve = CURVES[object.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'P-256';
    const hash = namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256';
    const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve }, false, [
      'sign',
    ]);
    return { key, algorithm: { name: 'ECDSA', hash }, spki };
  }
  const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, rsa, false, ['sign']);
  return { key, algorithm: rsa, spki };
}
