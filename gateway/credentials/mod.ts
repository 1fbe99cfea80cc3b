/**
 * Edge credentials (issue 14): certificates from the fleet CA recorded per edge and revoked at
 * deregistration (the CRL file the broker reads), secrets that rotate with a grace period and
 * reach the edge through its configuration, sealed until then under the gateway's sealing key.
 */
export { type CertificateStats, EdgeCertificates, type EdgeIdentityOptions } from './certificates.ts';
export { CredentialsError } from './errors.ts';
export { EdgeRotations, type EdgeRotationsOptions, GRACE_SECONDS, type Rotation } from './rotation.ts';
export { credentialRoutes } from './routes.ts';
export { loadSealingKey, SEALING_KEY_FILE, type SealingKey, sealingKey } from './sealing.ts';
export { type EdgeCredentials, type IdentityOptions, startCredentials } from './start.ts';
