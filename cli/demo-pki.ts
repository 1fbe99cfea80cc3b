/**
 * The demo's fleet PKI in ./.devicehub/pki/: the fleet CA (made at the first start, kept after, so
 * a browser or curl told to trust `ca.crt` once keeps trusting the demo), a loopback server
 * certificate (the gateway's HTTPS, mosquitto's and frps's TLS), and the CRL mosquitto reads. The
 * gateway keeps its sealing key in the same folder and signs edges' certificates with the same CA
 * the broker checks; it rewrites the CRL whenever it revokes one, so an existing CRL is kept.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startTestPki, type TestPki } from '../infra/tls.ts';

export interface DemoPki extends TestPki {
  /** The fleet's CRL (the gateway writes it, mosquitto's mTLS listener reads it at start). */
  readonly crlFile: string;
}

export async function startDemoPki(dir: string): Promise<DemoPki> {
  const pki = await startTestPki({ dir });
  const crlFile = join(dir, 'crl.pem');
  // mosquitto cannot start without its crlfile; the gateway's own CRL (revocations) is kept.
  if (!existsSync(crlFile)) await pki.writeCrl([]);
  return { ...pki, crlFile };
}
