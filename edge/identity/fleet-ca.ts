import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { createFileOnce } from './create-once.ts';
import { IdentityError } from './errors.ts';
import {
  type CryptoKey,
  EC_SIGNING,
  generateEcKeyPair,
  privateKeyPem,
  readSigningKey,
  type SigningAlgorithm,
} from './keys.ts';
import { randomSerial } from './serial.ts';
import { x509 } from './x509.ts';

/** The fleet's certificate authority, as loaded: what signs edge certificates and CRLs. */
export type FleetCa = {
  readonly certificate: x509.X509Certificate;
  /** `ca.crt` as PEM: what a broker's `cafile` and an edge's trust store hold. */
  readonly certificatePem: string;
  readonly signingKey: CryptoKey;
  readonly signingAlgorithm: SigningAlgorithm;
  /** True when this call generated the CA (first start), false when it loaded existing files. */
  readonly created: boolean;
};

export type LoadFleetCaOptions = {
  /** The folder holding `ca.key` (PEM, mode 0600) and `ca.crt` (PEM). */
  dir: string;
  /** Generate and write the CA when neither file exists (the demo's first start). */
  create?: boolean;
  /** The clock for a generated CA's validity; tests only. */
  now?: Date;
  /** A generated CA's subject common name. */
  commonName?: string;
};

export const CA_KEY_FILE = 'ca.key';
export const CA_CERT_FILE = 'ca.crt';
const CA_VALIDITY_DAYS = 3650;
const DAY_MS = 86_400_000;

/**
 * Loads the fleet CA from `dir`, or with `create` generates one there when neither file exists:
 * ECDSA P-256, self-signed, a CA limited to signing end-entity certificates and CRLs, ten years.
 * The key lives in `ca.key` only (mode 0600, the folder 0700), never in a database. A lone
 * `ca.key` or `ca.crt`, a key that does not match the certificate, or a certificate that is not
 * a CA is an `IdentityError`, never overwritten.
 */
export async function loadFleetCa(options: LoadFleetCaOptions): Promise<FleetCa> {
  const { dir, create = false, now = new Date(), commonName = 'DeviceHub fleet CA' } = options;
  if (typeof dir !== 'string' || dir === '') {
    throw new IdentityError(
      'INVALID_OPTION',
      `Cannot load the fleet CA: dir must be a path, got ${String(dir)}`,
    );
  }
  const keyPath = join(dir, CA_KEY_FILE);
  const certPath = join(dir, CA_CERT_FILE);
  // The certificate first: it is written after the key, so a certificate read means its key is
  // there too (read both at once, a process could see the key still missing and then the pair).
  const certPem = await readIfExists(certPath);
  const keyPem = await readIfExists(keyPath);
  if (keyPem !== undefined && certPem !== undefined) return parseFleetCa(keyPem, certPem, dir);
  // A key alone may be another process's CA halfway written (its certificate comes next).
  if (keyPem !== undefined && create) return await loadPairOfAnother(dir, keyPath, certPath);
  if (keyPem !== undefined || certPem !== undefined) {
    const missing = keyPem === undefined ? keyPath : certPath;
    throw new IdentityError(
      'CA_INCOMPLETE',
      `Cannot load the fleet CA: ${missing} is missing (the other file exists)`,
    );
  }
  if (!create) {
    throw new IdentityError(
      'CA_MISSING',
      `Cannot load the fleet CA: no ${CA_KEY_FILE} and ${CA_CERT_FILE} in ${dir}`,
    );
  }
  const generated = await generateFleetCa({ now, commonName });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // The key first, then the certificate, each linked into place only if absent: of processes
  // starting together on one folder exactly one writes both, and the others load its pair.
  if (!(await createFileOnce(keyPath, generated.keyPem, 0o600))) {
    return await loadPairOfAnother(dir, keyPath, certPath);
  }
  if (!(await createFileOnce(certPath, generated.ca.certificatePem, 0o644))) {
    throw new IdentityError(
      'CA_INCOMPLETE',
      `Cannot create the fleet CA: ${certPath} appeared for a key that this process wrote`,
    );
  }
  return generated.ca;
}

/** How long a loader waits for the certificate of a key another process has just created. */
const CERT_AFTER_KEY_MS = 2_000;

/**
 * Another process won the key: its certificate follows within moments. Waits for it, then loads
 * the pair; a key whose certificate never comes is `CA_INCOMPLETE`, as a lone key always is.
 */
async function loadPairOfAnother(dir: string, keyPath: string, certPath: string): Promise<FleetCa> {
  const deadline = Date.now() + CERT_AFTER_KEY_MS;
  for (;;) {
    const certPem = await readIfExists(certPath);
    if (certPem !== undefined) {
      return await parseFleetCa(await readFile(keyPath, 'utf8'), certPem, dir);
    }
    if (Date.now() >= deadline) {
      throw new IdentityError(
        'CA_INCOMPLETE',
        `Cannot load the fleet CA: ${certPath} is missing (another process created ${keyPath} and no certificate followed)`,
      );
    }
    await setTimeout(20);
  }
}

/** A new fleet CA in memory, with its key as PKCS#8 PEM: what `loadFleetCa` writes at first start. */
export async function generateFleetCa(options: {
  now?: Date;
  commonName?: string;
}): Promise<{ ca: FleetCa; keyPem: string }> {
  const { now = new Date(), commonName = 'DeviceHub fleet CA' } = options;
  const keys = await generateEcKeyPair();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [commonName] }],
    notBefore: now,
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: EC_SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const ca: FleetCa = {
    certificate,
    certificatePem: certificate.toString('pem'),
    signingKey: keys.privateKey,
    signingAlgorithm: EC_SIGNING,
    created: true,
  };
  return { ca, keyPem: await privateKeyPem(keys.privateKey) };
}

async function parseFleetCa(keyPem: string, certPem: string, dir: string): Promise<FleetCa> {
  let certificate: x509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(certPem);
  } catch (error) {
    throw new IdentityError(
      'CA_MALFORMED',
      `Cannot load the fleet CA: ${dir}/${CA_CERT_FILE} is not a PEM certificate`,
      {
        cause: error,
      },
    );
  }
  const constraints = certificate.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca) {
    throw new IdentityError(
      'CA_MALFORMED',
      `Cannot load the fleet CA: ${dir}/${CA_CERT_FILE} is not a CA certificate`,
    );
  }
  const signing = await readSigningKey(keyPem, `Cannot load the fleet CA from ${dir}/${CA_KEY_FILE}`);
  if (!Buffer.from(certificate.publicKey.rawData).equals(signing.spki)) {
    throw new IdentityError(
      'CA_KEY_MISMATCH',
      `Cannot load the fleet CA: ${dir}/${CA_KEY_FILE} is not the key of ${CA_CERT_FILE}`,
    );
  }
  return {
    certificate,
    certificatePem: certificate.toString('pem'),
    signingKey: signing.key,
    signingAlgorithm: signing.algorithm,
    created: false,
  };
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
