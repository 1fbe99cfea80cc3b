import { isIP } from 'node:net';
import { IdentityError } from './errors.ts';
import type { FleetCa } from './fleet-ca.ts';
import { generateEcKeyPair, privateKeyPem } from './keys.ts';
import { type IssuedCertificate, signLeaf } from './leaf.ts';
import { x509 } from './x509.ts';

/** A certificate with the key generated for it (PKCS#8 PEM): for the hub's own servers and services. */
export type KeyedCertificate = IssuedCertificate & { privateKeyPem: string };

export type IssueServerCertificateOptions = {
  /** DNS names and IP addresses clients reach the server by; the first is also the subject CN. */
  names: readonly string[];
  /** 1..825, default 365. */
  validityDays?: number;
  now?: Date;
};

export type IssueServiceCertificateOptions = {
  /** Who the service is, as the broker sees it (e.g. the MQTT link user `link@devicehub`). */
  commonName: string;
  /** 1..825, default 365. */
  validityDays?: number;
  now?: Date;
};

const DNS_NAME =
  /^(?=.{1,253}$)(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const SERVICE_NAME = /^[A-Za-z0-9@._:-]{1,64}$/;

/**
 * A TLS server certificate from the fleet CA, with a new key: the broker's, the gateway's, frps's
 * and Kafka's listeners, so edges that trust the fleet CA can check who they talk to.
 */
export async function issueServerCertificate(
  ca: FleetCa,
  options: IssueServerCertificateOptions,
): Promise<KeyedCertificate> {
  const { names, validityDays = 365, now = new Date() } = options;
  if (!Array.isArray(names) || names.length === 0) {
    throw new IdentityError('INVALID_OPTION', 'Cannot issue a server certificate: give at least one name');
  }
  const alternatives = names.map((name): x509.JsonGeneralName => {
    if (typeof name === 'string' && isIP(name) !== 0) return { type: 'ip', value: name };
    if (typeof name === 'string' && DNS_NAME.test(name)) return { type: 'dns', value: name };
    throw new IdentityError(
      'INVALID_OPTION',
      `Cannot issue a server certificate: ${JSON.stringify(name)} is neither a DNS name nor an IP address`,
    );
  });
  const keys = await generateEcKeyPair();
  const issued = await signLeaf(ca, {
    commonName: names[0]!,
    key: keys.publicKey,
    validityDays,
    maxValidityDays: 825,
    now,
    what: 'a server certificate',
    extensions: [
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(alternatives),
    ],
  });
  return { ...issued, privateKeyPem: await privateKeyPem(keys.privateKey) };
}

/**
 * A client certificate for one of the hub's own services (a link, a gateway talking to the
 * broker), with a new key; its CN is the service's name, which no edge id can be.
 */
export async function issueServiceCertificate(
  ca: FleetCa,
  options: IssueServiceCertificateOptions,
): Promise<KeyedCertificate> {
  const { commonName, validityDays = 365, now = new Date() } = options;
  if (typeof commonName !== 'string' || !SERVICE_NAME.test(commonName)) {
    throw new IdentityError(
      'INVALID_OPTION',
      `Cannot issue a service certificate: invalid name ${JSON.stringify(commonName)}`,
    );
  }
  const keys = await generateEcKeyPair();
  const issued = await signLeaf(ca, {
    commonName,
    key: keys.publicKey,
    validityDays,
    maxValidityDays: 825,
    now,
    what: `${commonName}'s certificate`,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  return { ...issued, privateKeyPem: await privateKeyPem(keys.privateKey) };
}
