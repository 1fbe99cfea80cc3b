/**
 * The fleet's certificate authority (issue 14, item 1): `loadFleetCa` loads the CA's key and
 * certificate from files (or generates them at the demo's first start), `issueEdgeCertificate`
 * gives an edge a short-lived client certificate — from its CSR, so its private key never leaves
 * the device, or with a key generated here — `issueServerCertificate` and `issueServiceCertificate`
 * give the hub's own listeners and services theirs, and `createCrl` signs the list of revoked serials the
 * broker reads. X.509 encoding is `@peculiar/x509` (WebCrypto, no native code), loaded in
 * `x509.ts` only; nothing here writes ASN.1 by hand. Errors are `IdentityError`s with a code.
 */

export { createFileOnce } from './create-once.ts';
export type { CreateCrlOptions, RevokedCertificate } from './crl.ts';
export { createCrl } from './crl.ts';
export { readEdgeCsr } from './csr.ts';
export type { EdgeCertificate, IssueEdgeCertificateOptions } from './edge-certificate.ts';
export { edgeUri, issueEdgeCertificate } from './edge-certificate.ts';
export { IdentityError } from './errors.ts';
export type { FleetCa, LoadFleetCaOptions } from './fleet-ca.ts';
export { CA_CERT_FILE, CA_KEY_FILE, generateFleetCa, loadFleetCa } from './fleet-ca.ts';
export type { IssuedCertificate } from './leaf.ts';
export type {
  IssueServerCertificateOptions,
  IssueServiceCertificateOptions,
  KeyedCertificate,
} from './service-certificates.ts';
export { issueServerCertificate, issueServiceCertificate } from './service-certificates.ts';
