import { createHash } from 'node:crypto';
import { IdentityError } from './errors.ts';
import type { FleetCa } from './fleet-ca.ts';
import type { CryptoKey } from './keys.ts';
import { randomSerial } from './serial.ts';
import { x509 } from './x509.ts';

/** A certificate the fleet CA signed, with what a registry keeps of it. */
export type IssuedCertificate = {
  certificatePem: string;
  /** Hex, lower case, as `openssl x509 -serial` prints it (and as a CRL entry takes it). */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER certificate, hex: how a registry can name the certificate. */
  fingerprintSha256: string;
};

export type SignLeafOptions = {
  /** The subject's common name. */
  commonName: string;
  key: x509.PublicKey | CryptoKey;
  /** 1..max, never past the CA's own expiry. */
  validityDays: number;
  /** Largest validityDays accepted. */
  maxValidityDays: number;
  now: Date;
  /** Key usage, extended key usage, SANs: what makes the leaf a client or a server. */
  extensions: x509.Extension[];
  /** Names the certificate in errors ("a certificate", "edge-1's certificate"). */
  what: string;
};

const DAY_MS = 86_400_000;
/** notBefore is set this far back, for machines whose clocks run a little behind. */
const BACKDATE_MS = 5 * 60_000;

/**
 * Signs an end-entity certificate: not a CA, a random serial, subject and authority key ids, and
 * the caller's extensions; checks the validity against the CA's own.
 */
export async function signLeaf(ca: FleetCa, options: SignLeafOptions): Promise<IssuedCertificate> {
  const { commonName, key, validityDays, maxValidityDays, now, extensions, what } = options;
  if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > maxValidityDays) {
    throw new IdentityError(
      'INVALID_OPTION',
      `Cannot issue ${what}: validityDays must be 1..${maxValidityDays}, got ${validityDays}`,
    );
  }
  const caEnd = ca.certificate.notAfter.getTime();
  if (now.getTime() >= caEnd) {
    throw new IdentityError(
      'CA_EXPIRED',
      `Cannot issue ${what}: the fleet CA expired at ${ca.certificate.notAfter.toISOString()}`,
    );
  }
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [commonName] }],
    issuer: ca.certificate.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(Math.min(now.getTime() + validityDays * DAY_MS, caEnd)),
    publicKey: key,
    signingKey: ca.signingKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      ...extensions,
      await x509.SubjectKeyIdentifierExtension.create(key),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
    ],
  });
  return {
    certificatePem: certificate.toString('pem'),
    serial: certificate.serialNumber.toLowerCase(),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    fingerprintSha256: createHash('sha256').update(Buffer.from(certificate.rawData)).digest('hex'),
  };
}
