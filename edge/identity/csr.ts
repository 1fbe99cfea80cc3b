import { IdentityError } from './errors.ts';
import { checkSpki } from './keys.ts';
import { x509 } from './x509.ts';

const MAX_CSR_PEM = 16 * 1024;

/**
 * Reads an edge's PKCS#10 request and returns the public key it asks to certify, after checking,
 * in this order: it parses (`CSR_MALFORMED`), its signature verifies with its own key — so whoever
 * sent it holds the private key and nothing in it was changed (`CSR_SIGNATURE`) — and its subject
 * names exactly this edge: one CN, equal to `edgeId` (`CSR_SUBJECT_MISMATCH`). Only the key is
 * taken from the request; its other attributes and requested extensions are ignored.
 */
export async function readEdgeCsr(pem: string, edgeId: string): Promise<x509.PublicKey> {
  const csr = parseCsr(pem, edgeId);
  let valid = false;
  try {
    valid = await csr.verify();
  } catch (error) {
    throw new IdentityError('CSR_SIGNATURE', `CSR for edge ${edgeId}: its signature cannot be verified`, {
      cause: error,
    });
  }
  if (!valid)
    throw new IdentityError('CSR_SIGNATURE', `CSR for edge ${edgeId}: its signature does not verify`);
  const names = csr.subjectName.getField('CN');
  if (names.length !== 1 || names[0] !== edgeId) {
    throw new IdentityError(
      'CSR_SUBJECT_MISMATCH',
      `CSR for edge ${edgeId}: its subject names ${JSON.stringify(names)}, not this edge`,
    );
  }
  checkSpki(csr.publicKey.rawData, `CSR for edge ${edgeId}`);
  return csr.publicKey;
}

function parseCsr(pem: string, edgeId: string): x509.Pkcs10CertificateRequest {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
    throw new IdentityError('CSR_MALFORMED', `CSR for edge ${edgeId}: not a PEM certificate request`);
  }
  if (pem.length > MAX_CSR_PEM) {
    throw new IdentityError(
      'CSR_MALFORMED',
      `CSR for edge ${edgeId}: ${pem.length} characters, at most ${MAX_CSR_PEM}`,
    );
  }
  try {
    const csr = new x509.Pkcs10CertificateRequest(pem);
    // Touch what later steps read, so a structure that parses lazily fails here, as malformed.
    void csr.subjectName.getField('CN');
    void csr.publicKey.rawData;
    return csr;
  } catch (error) {
    throw new IdentityError('CSR_MALFORMED', `CSR for edge ${edgeId}: not a valid PKCS#10 request`, {
      cause: error,
    });
  }
}
