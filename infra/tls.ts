/**
 * A fleet PKI in files, for tests, the demo and `npm run cluster`: the fleet CA (loaded from the
 * folder, or generated there at first start), a server certificate for the loopback listeners
 * (`localhost`, `127.0.0.1`, `::1`), and on demand edge and service client certificates and the
 * CRL, each written as PEM files a broker, a gateway or an agent is pointed at. Keys are 0600.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CA_CERT_FILE,
  createCrl,
  type FleetCa,
  type IssueEdgeCertificateOptions,
  issueEdgeCertificate,
  issueServerCertificate,
  issueServiceCertificate,
  loadFleetCa,
  type RevokedCertificate,
} from '../edge/identity/mod.ts';

/** A certificate and its key in files. */
export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly serial: string;
}

export interface TestPki {
  readonly dir: string;
  readonly ca: FleetCa;
  /** The CA certificate (PEM file): every client's and server's trust anchor. */
  readonly caFile: string;
  /** The loopback server certificate. */
  readonly server: CertificateFiles;
  /** An edge's client certificate (CN = its id), written to `<dir>/edges/<id>.{crt,key}`. */
  issueEdge(edgeId: string, options?: Omit<IssueEdgeCertificateOptions, 'edgeId'>): Promise<CertificateFiles>;
  /** A hub service's client certificate (CN = `commonName`). */
  issueService(commonName: string): Promise<CertificateFiles>;
  /** Writes the CRL listing `revoked` to `<dir>/crl.pem` and returns its path. */
  writeCrl(revoked: readonly RevokedCertificate[]): Promise<string>;
}

export interface TestPkiOptions {
  /** Where the CA lives (default: a new temporary folder); an existing CA there is reused. */
  readonly dir?: string;
  /** Extra names of the server certificate (e.g. compose service names). */
  readonly serverNames?: readonly string[];
}

export async function startTestPki(options: TestPkiOptions = {}): Promise<TestPki> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'devicehub-pki-')));
  await mkdir(join(dir, 'edges'), { recursive: true, mode: 0o700 });
  const ca = await loadFleetCa({ dir, create: true });
  const caFile = join(dir, CA_CERT_FILE);
  const write = async (
    base: string,
    issued: { certificatePem: string; privateKeyPem: string; serial: string },
  ): Promise<CertificateFiles> => {
    const certFile = `${base}.crt`;
    const keyFile = `${base}.key`;
    await writeFile(certFile, issued.certificatePem, { mode: 0o644 });
    await writeFile(keyFile, issued.privateKeyPem, { mode: 0o600 });
    return { certFile, keyFile, ...issued };
  };
  const names = ['localhost', '127.0.0.1', '::1', ...(options.serverNames ?? [])];
  const server = await write(join(dir, 'server'), await issueServerCertificate(ca, { names }));
  return {
    dir,
    ca,
    caFile,
    server,
    async issueEdge(edgeId, issueOptions = {}) {
      const issued = await issueEdgeCertificate(ca, { ...issueOptions, edgeId });
      if (issued.privateKeyPem === undefined) {
        throw new Error(
          'startTestPki.issueEdge writes a key it generated: give neither a csr nor a publicKey',
        );
      }
      return write(join(dir, 'edges', edgeId), { ...issued, privateKeyPem: issued.privateKeyPem });
    },
    async issueService(commonName) {
      return write(
        join(dir, commonName.replace(/[^A-Za-z0-9._-]/g, '_')),
        await issueServiceCertificate(ca, { commonName }),
      );
    },
    async writeCrl(revoked) {
      const file = join(dir, 'crl.pem');
      await writeFile(file, await createCrl(ca, { revoked, nextUpdateHours: 24 }));
      return file;
    },
  };
}
