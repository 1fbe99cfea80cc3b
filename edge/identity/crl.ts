import { IdentityError } from './errors.ts';
import type { FleetCa } from './fleet-ca.ts';
import { x509 } from './x509.ts';

export type RevokedCertificate = {
  /** The certificate's serial, hex (as `EdgeCertificate.serial`). */
  serial: string;
  revokedAt: Date;
  /** Why (RFC 5280 reasonCode); default `cessationOfOperation`, the edge was deregistered. */
  reason?: keyof typeof REASONS;
};

export type CreateCrlOptions = {
  revoked: readonly RevokedCertificate[];
  /** How long the CRL is valid: a verifier using it after `nextUpdate` refuses every certificate. 1..720. */
  nextUpdateHours: number;
  /** The clock (thisUpdate); tests only. */
  now?: Date;
};

const SERIAL = /^[0-9a-fA-F]{1,40}$/;
const REASONS = {
  keyCompromise: x509.X509CrlReason.keyCompromise,
  superseded: x509.X509CrlReason.superseded,
  cessationOfOperation: x509.X509CrlReason.cessationOfOperation,
} as const;

/**
 * The fleet's certificate revocation list, signed by the CA, as PEM: what the broker's `crlfile`
 * and `openssl verify -crl_check` read. It lists every revoked serial; an edge's certificate stays
 * listed until it would have expired anyway.
 */
export async function createCrl(ca: FleetCa, options: CreateCrlOptions): Promise<string> {
  const { revoked, nextUpdateHours, now = new Date() } = options;
  if (!Number.isFinite(nextUpdateHours) || nextUpdateHours <= 0 || nextUpdateHours > 720) {
    throw new IdentityError(
      'INVALID_OPTION',
      `Cannot create a CRL: nextUpdateHours must be in (0, 720], got ${nextUpdateHours}`,
    );
  }
  if (!Array.isArray(revoked)) {
    throw new IdentityError('INVALID_OPTION', 'Cannot create a CRL: revoked must be an array');
  }
  const entries = revoked.map(({ serial, revokedAt, reason = 'cessationOfOperation' }) => {
    if (typeof serial !== 'string' || !SERIAL.test(serial)) {
      throw new IdentityError(
        'SERIAL_MALFORMED',
        `Cannot create a CRL: serial must be 1..40 hex digits, got ${JSON.stringify(serial)}`,
      );
    }
    if (!(revokedAt instanceof Date) || Number.isNaN(revokedAt.getTime())) {
      throw new IdentityError('INVALID_OPTION', `Cannot create a CRL: revokedAt of ${serial} is not a date`);
    }
    if (!Object.hasOwn(REASONS, reason)) {
      throw new IdentityError(
        'INVALID_OPTION',
        `Cannot create a CRL: unknown reason ${JSON.stringify(reason)} for ${serial}`,
      );
    }
    return {
      serialNumber: serial.toLowerCase(),
      revocationDate: revokedAt,
      reason: REASONS[reason as keyof typeof REASONS],
    };
  });
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.certificate.subjectName,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + nextUpdateHours * 3_600_000),
    entries,
    signingKey: ca.signingKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey)],
  });
  // The label OpenSSL (and so mosquitto's crlfile) reads; the library writes `CRL`.
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL');
}
