import { createHash } from 'node:crypto';
import { isValidEdgeId } from '../protocol/mod.ts';
import { readEdgeCsr } from './csr.ts';
import { IdentityError } from './errors.ts';
import type { FleetCa } from './fleet-ca.ts';
import {
  type CryptoKey,
  type CryptoKeyPair,
  generateEcKeyPair,
  privateKeyPem,
  readPublicKey,
} from './keys.ts';
import { randomSerial } from './serial.ts';
import { x509 } from './x509.ts';

export type IssueEdgeCertificateOptions = {
  edgeId: string;
  /** The edge's PKCS#10 request (PEM): its private key never leaves the device. */
  csr?: string;
  /** Or the edge's public key (SPKI PEM). With neither, a key pair is generated and returned. */
  publicKey?: string;
  /** 1..365, default 90; never past the CA's own expiry. */
  validityDays?: number;
  /** The clock; tests only. */
  now?: Date;
};

export type EdgeCertificate = {
  edgeId: string;
  certificatePem: string;
  /** Hex, lower case, as `openssl x509 -serial` prints it (and as a CRL entry takes it). */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER certificate, hex: how a registry can name the certificate. */
  fingerprintSha256: string;
  /** PKCS#8 PEM, only when the CA generated the key (no CSR, no public key given). */
  privateKeyPem?: string;
};

const DAY_MS = 86_400_000;
/** notBefore is set this far back, for edges whose clocks run a little behind. */
const BACKDATE_MS = 5 * 60_000;

/** The URI SAN that names an edge, next to its id in the subject CN. */
export function edgeUri(edgeId: string): string {
  return `urn:devicehub:edge:${edgeId}`;
}

/**
 * Issues an edge's client certificate: subject `CN=<edgeId>`, URI SAN `urn:devicehub:edge:<id>`,
 * not a CA, key usage digitalSignature, extended key usage clientAuth, a random serial. The key
 * comes from a verified CSR (see `readEdgeCsr`), a given public key, or is generated here.
 */
export async function issueEdgeCertificate(
  ca: FleetCa,
  options: IssueEdgeCertificateOptions,
): Promise<EdgeCertificate> {
  const { edgeId, csr, publicKey, validityDays = 90, now = new Date() } = options;
  if (!isValidEdgeId(edgeId)) {
    throw new IdentityError(
      'INVALID_EDGE_ID',
      `Cannot issue a certificate: invalid edge id ${JSON.stringify(edgeId)}`,
    );
  }
  if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > 365) {
    throw new IdentityError(
      'INVALID_OPTION',
      `Cannot issue a certificate: validityDays must be 1..365, got ${validityDays}`,
    );
  }
  if (csr !== undefined && publicKey !== undefined) {
    throw new IdentityError(
      'INVALID_OPTION',
      'Cannot issue a certificate: give a csr or a publicKey, not both',
    );
  }
  const caEnd = ca.certificate.notAfter.getTime();
  if (now.getTime() >= caEnd) {
    throw new IdentityError(
      'CA_EXPIRED',
      `Cannot issue a certificate: the fleet CA expired at ${ca.certificate.notAfter.toISOString()}`,
    );
  }
  let key: x509.PublicKey | CryptoKey;
  let generated: CryptoKeyPair | undefined;
  if (csr !== undefined) key = await readEdgeCsr(csr, edgeId);
  else if (publicKey !== undefined) key = readPublicKey(publicKey, `Public key of edge ${edgeId}`);
  else {
    generated = await generateEcKeyPair();
    key = generated.publicKey;
  }
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const notAfter = new Date(Math.min(now.getTime() + validityDays * DAY_MS, caEnd));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [edgeId] }],
    issuer: ca.certificate.subjectName,
    notBefore,
    notAfter,
    publicKey: key,
    signingKey: ca.signingKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: edgeUri(edgeId) }]),
      await x509.SubjectKeyIdentifierExtension.create(key),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
    ],
  });
  return {
    edgeId,
    certificatePem: certificate.toString('pem'),
    serial: certificate.serialNumber.toLowerCase(),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    fingerprintSha256: createHash('sha256').update(Buffer.from(certificate.rawData)).digest('hex'),
    ...(generated ? { privateKeyPem: await privateKeyPem(generated.privateKey) } : {}),
  };
}
