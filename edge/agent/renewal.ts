/**
 * The edge's certificate, renewed before it expires: once two thirds of its validity have passed
 * (or when a rotation asks for new credentials), the agent makes a new key pair, sends a CSR with
 * its own credentials to the hub (`POST /v1/pki/edges/{id}/certificate`), keeps the certificate and
 * key in `<dataDir>/tls/` (the key 0600; it never leaves the box) and moves its broker connection to
 * them. A restart uses the newest of the provisioned and the renewed certificate. The X.509 library
 * is loaded only when a CSR is made.
 */
import { webcrypto, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { edgeAuthorization } from './credentials.ts';
import { AgentError } from './errors.ts';
import type { AgentHttpClient } from './http-client.ts';
import type { Logger } from './logger.ts';

export interface EdgeTlsIdentity {
  readonly cert: string;
  readonly key: string;
}

export interface CertificateRenewalOptions {
  readonly edgeId: string;
  readonly configUrl: string;
  readonly http: AgentHttpClient;
  readonly password: () => string;
  readonly dataDir: string;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

/** Renewal starts once this share of the certificate's validity has passed. */
const RENEW_AT = 2 / 3;
/** After a failed renewal, the next try waits this long (the certificate still works meanwhile). */
const RETRY_MS = 60_000;

export class CertificateRenewal {
  readonly #o: CertificateRenewalOptions;
  #current: EdgeTlsIdentity | undefined;
  #notBefore = 0;
  #notAfter = 0;
  #nextTry = 0;

  constructor(options: CertificateRenewalOptions, provisioned: EdgeTlsIdentity | undefined) {
    this.#o = options;
    const saved = readSaved(join(options.dataDir, 'tls'));
    this.#use(newest(provisioned, saved));
  }

  /** The certificate and key to present now (undefined: the edge has none). */
  get identity(): EdgeTlsIdentity | undefined {
    return this.#current;
  }

  /** Whether a renewal is due: past two thirds of the validity, or asked for (a rotation). */
  due(now = Date.now(), asked = false): boolean {
    if (this.#current === undefined || now < this.#nextTry) return false;
    return asked || now >= this.#notBefore + (this.#notAfter - this.#notBefore) * RENEW_AT;
  }

  /** Makes a key pair and a CSR, has the hub sign it, saves both; the new identity. */
  async renew(): Promise<EdgeTlsIdentity> {
    const { edgeId, configUrl, http, log } = this.#o;
    this.#nextTry = Date.now() + RETRY_MS;
    const { csr, key } = await makeCsr(edgeId);
    const url = `${configUrl}/v1/pki/edges/${encodeURIComponent(edgeId)}/certificate`;
    const answer = await http.request(url, {
      what: 'certificate renewal',
      method: 'POST',
      headers: {
        authorization: edgeAuthorization(edgeId, this.#o.password()),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ csr }),
      signal: AbortSignal.any([this.#o.signal, AbortSignal.timeout(30_000)]),
    });
    if (answer.status !== 201)
      throw new AgentError('RENEWAL_REFUSED', `certificate renewal: HTTP ${answer.status} from ${url}`);
    const { certificatePem } = JSON.parse(answer.body) as { certificatePem: string };
    const renewed = { cert: certificatePem, key };
    save(join(this.#o.dataDir, 'tls'), renewed);
    this.#use(renewed);
    log.info({ notAfter: new Date(this.#notAfter).toISOString() }, 'certificate renewed');
    return renewed;
  }

  #use(identity: EdgeTlsIdentity | undefined): void {
    this.#current = identity;
    if (identity === undefined) return;
    const parsed = new X509Certificate(identity.cert);
    this.#notBefore = Date.parse(parsed.validFrom);
    this.#notAfter = Date.parse(parsed.validTo);
  }
}

/** A P-256 key pair and a CSR naming the edge (CN), both PEM. */
async function makeCsr(edgeId: string): Promise<{ csr: string; key: string }> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [edgeId] }],
    keys: keys as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'],
    signingAlgorithm: algorithm,
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { csr: request.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

function readSaved(dir: string): EdgeTlsIdentity | undefined {
  const [certFile, keyFile] = [join(dir, 'edge.crt'), join(dir, 'edge.key')];
  if (!existsSync(certFile) || !existsSync(keyFile)) return undefined;
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

/** The key first, then the certificate, each written aside and renamed into place. */
function save(dir: string, identity: EdgeTlsIdentity): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [name, content, mode] of [
    ['edge.key', identity.key, 0o600],
    ['edge.crt', identity.cert, 0o644],
  ] as const) {
    const temporary = join(dir, `${name}.tmp`);
    writeFileSync(temporary, content, { mode });
    chmodSync(temporary, mode);
    renameSync(temporary, join(dir, name));
  }
}

/** The identity whose certificate ends last. */
function newest(a: EdgeTlsIdentity | undefined, b: EdgeTlsIdentity | undefined): EdgeTlsIdentity | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  const end = (i: EdgeTlsIdentity) => Date.parse(new X509Certificate(i.cert).validTo);
  return end(b) > end(a) ? b : a;
}
