/**
 * One mosquitto with its TLS listeners for a test file (edge/broker/mqtt-tls*.test.ts): the fleet
 * PKI's CA and server certificate and an empty CRL, dynsec with the link user and five edges'
 * passwords, a watcher on the plaintext loopback listener that records every uplink message; and
 * the helpers that connect, publish, subscribe and read what the hub side saw.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { type MosquittoServer, startMosquitto, waitFor } from '../../../infra/mod.ts';
import { type CertificateFiles, startTestPki, type TestPki } from '../../../infra/tls.ts';
import { uplinkTopic } from '../../protocol/mod.ts';
import { BrokerIdentities } from '../broker-identities.ts';
import { DynsecClient } from '../dynsec-client.ts';
import { LINK_USER } from '../identities.ts';

export const EDGES = ['E-1', 'E-2', 'E-3', 'E-4', 'E-5'];
export const users: Record<string, string> = {
  [LINK_USER]: 'link-secret',
  ...Object.fromEntries(EDGES.map((id) => [id, `${id}-secret`])),
};

export interface TlsBroker {
  readonly pki: TestPki;
  readonly broker: MosquittoServer;
  /** The broker's dynsec identities, as the gateway manages them. */
  readonly identities: BrokerIdentities;
  /** The hub side's connection (plaintext loopback), subscribed to every uplink. */
  readonly watcher: MqttClient;
  /** The edges' mTLS listener. */
  mtls(): string;
  /** An MQTT 5 connection that does not reconnect; closed after the file. */
  open(url: string, options: IClientOptions): Promise<MqttClient>;
  /** A connection to the mTLS listener with `cert`. */
  withCertificate(cert: CertificateFiles, options?: IClientOptions): Promise<MqttClient>;
  /** Why a connection was refused (its error's code and message); fails if it connected. */
  refusal(url: string, options: IClientOptions): Promise<string>;
  /**
   * Everything the watcher has seen once `marker` (published now by a legitimate edge) reached it:
   * a message the broker had let through before the marker would have been delivered first.
   */
  seenUpTo(marker: string): Promise<string[]>;
  /** mosquitto's log so far. */
  mosquittoLog(): string;
}

/** Starts the broker (and the watcher) before the file's tests and stops it after. */
export function useTlsBroker(): TlsBroker {
  let pki: TestPki;
  let broker: MosquittoServer;
  let ca: Buffer;
  let dynsec: DynsecClient;
  let identities: BrokerIdentities;
  const clients: MqttClient[] = [];
  /** Every uplink message the hub side sees (topic and payload), on the plaintext loopback listener. */
  const seen: string[] = [];
  let watcher: MqttClient;

  before(async () => {
    pki = await startTestPki();
    const crlFile = await pki.writeCrl([]);
    broker = await startMosquitto({
      users,
      tls: { caFile: pki.caFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile, crlFile },
    });
    ca = readFileSync(pki.caFile);
    dynsec = new DynsecClient({ url: broker.url, ...broker.admin });
    identities = new BrokerIdentities(dynsec);
    watcher = await mqtt.connectAsync(broker.url, {
      username: LINK_USER,
      password: users[LINK_USER],
      protocolVersion: 5,
      reconnectPeriod: 500,
    });
    watcher.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    await watcher.subscribeAsync(['dh/v1/+/up/#', 'dh/v1/+/legacy'], { qos: 1 });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await watcher?.endAsync(true);
    await dynsec?.close();
    await broker?.stop();
  });

  const mtls = () => broker.tls!.mtlsUrl;
  const open = (url: string, options: IClientOptions) => connectOnce(url, options, { ca, clients });
  const withCertificate = (cert: CertificateFiles, options: IClientOptions = {}) =>
    open(mtls(), { cert: cert.certificatePem, key: cert.privateKeyPem, ...options });
  return {
    get pki() {
      return pki;
    },
    get broker() {
      return broker;
    },
    get identities() {
      return identities;
    },
    get watcher() {
      return watcher;
    },
    mtls,
    open,
    withCertificate,
    refusal: (url, options) => refusedBy(open(url, options), url),
    seenUpTo: async (marker) => {
      const e1 = await withCertificate(await pki.issueEdge('E-1'));
      await e1.publishAsync(uplinkTopic('E-1', 'status'), marker, { qos: 1 });
      const line = `${uplinkTopic('E-1', 'status')} ${marker}`;
      await waitFor(() => seen.includes(line), { message: `the marker ${marker} to reach the hub side` });
      await e1.endAsync();
      return seen.slice(0, seen.indexOf(line));
    },
    mosquittoLog: () => readFileSync(join(broker.dir, 'mosquitto.log'), 'utf8'),
  };
}

/** An MQTT 5 connection trusting `ca` that does not reconnect, kept in `clients` to be closed. */
async function connectOnce(
  url: string,
  options: IClientOptions,
  { ca, clients }: { ca: Buffer; clients: MqttClient[] },
): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, {
    ca,
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...options,
  });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

/** Why `connecting` was refused (its error's code and message); fails if it connected. */
async function refusedBy(connecting: Promise<MqttClient>, url: string): Promise<string> {
  return await connecting.then(
    () => assert.fail(`connected to ${url}`),
    (error: Error & { code?: string }) => `${error.code ?? ''} ${error.message}`,
  );
}

/** Publishes at QoS 1: `granted`, or the refusal's message (MQTT 5 PUBACK 0x87: not authorized). */
export async function publishResult(client: MqttClient, topic: string, payload: string): Promise<string> {
  return await client.publishAsync(topic, payload, { qos: 1 }).then(
    () => 'granted',
    (error: Error) => error.message,
  );
}

/** The reason codes of a SUBACK (mqtt.js rejects when one is a refusal). */
export async function subscribeCodes(client: MqttClient, filter: string): Promise<number[]> {
  return await client.subscribeAsync(filter, { qos: 1 }).then(
    (granted) => granted.map((g) => g.qos),
    (error: { packet?: { granted?: number[] } }) => {
      if (error.packet?.granted === undefined) throw error;
      return error.packet.granted;
    },
  );
}
