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
import { type IssuedCertificate, signLeaf } from './leaf.ts';
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

export type EdgeCertificate = IssuedCertificate & {
  edgeId: string;
  /** PKCS#8 PEM, only when the CA generated the key (no CSR, no public key given). */
  privateKeyPem?: string;
};

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
  if (csr !== undefined && publicKey !== undefined) {
    throw new IdentityError(
      'INVALID_OPTION',
      'Cannot issue a certificate: give a csr or a publicKey, not both',
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
  const issued = await signLeaf(ca, {
    commonName: edgeId,
    key,
    validityDays,
    maxValidityDays: 365,
    now,
    what: `edge ${edgeId}'s certificate`,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: edgeUri(edgeId) }]),
    ],
  });
  return {
    edgeId,
    ...issued,
    ...(generated ? { privateKeyPem: await privateKeyPem(generated.privateKey) } : {}),
  };
}
