/**
 * `devicehub gateway`'s flags (each with its environment variable) turned into the gateway's
 * options: the tunnels, the broker whose identities it manages, the Kafka whose edge credentials
 * it manages, and the web backend.
 */
import { readFileSync } from 'node:fs';
import { LINK_USER } from '../edge/broker/mod.ts';
import { DEFAULT_KAFKA_ADMIN_USER, type GatewayOptions, MIN_SECRET_KEY_BYTES } from '../gateway/mod.ts';
import { intFlag } from './config.ts';

type Flags = Record<string, string | boolean | undefined>;

/** A flag's value, else its environment variable's. */
const str = (values: Flags, flag: string, env: string) =>
  (values[flag] as string | undefined) ?? process.env[env];

/** The options built from the gateway's flags; throws RangeError naming a flag that is wrong. */
export function gatewayFlagOptions(
  values: Flags,
): Pick<
  GatewayOptions,
  'broker' | 'kafka' | 'tunnels' | 'webBackend' | 'authentication' | 'identity' | 'tuf'
> {
  const tunnelFlags = checkTunnelFlags(values);
  const broker = brokerOptions(values);
  const kafka = kafkaAdminOptions(values);
  const tunnels = tunnelOptions(values, tunnelFlags);
  const webBackend = webBackendOptions(values);
  const identity = identityOptions(values);
  const tuf = tufOptions(values);
  return {
    ...(identity === undefined ? {} : { identity }),
    ...(tuf === undefined ? {} : { tuf }),
    ...(broker === undefined ? {} : { broker }),
    ...(kafka === undefined ? {} : { kafka }),
    tunnels,
    ...(webBackend === undefined ? {} : { webBackend }),
    ...authenticationOptions(values),
  };
}

/** The fleet CA and sealing key's folder, and where the CRL is written (none: no certificates, no rotations). */
function identityOptions(values: Flags): GatewayOptions['identity'] {
  const dir = str(values, 'identity-dir', 'DH_IDENTITY_DIR');
  const crlFile = str(values, 'crl-file', 'DH_CRL_FILE');
  if (dir === undefined) {
    if (crlFile !== undefined)
      throw new RangeError('--crl-file / DH_CRL_FILE needs --identity-dir / DH_IDENTITY_DIR');
    return undefined;
  }
  const create = values['identity-create'] === true || process.env.DH_IDENTITY_CREATE === '1';
  return { dir, ...(create ? { create } : {}), ...(crlFile === undefined ? {} : { crlFile }) };
}

/** The TUF signing keys' folder (none: no signed update metadata). */
function tufOptions(values: Flags): GatewayOptions['tuf'] {
  const keysDir = str(values, 'tuf-keys-dir', 'DH_TUF_KEYS_DIR');
  const create = values['tuf-create'] === true || process.env.DH_TUF_CREATE === '1';
  if (keysDir === undefined) {
    if (create) throw new RangeError('--tuf-create / DH_TUF_CREATE needs --tuf-keys-dir / DH_TUF_KEYS_DIR');
    return undefined;
  }
  return { keysDir, ...(create ? { create } : {}) };
}

/** Whose X-Forwarded-For the gateway believes (none: the peer is the client). */
function authenticationOptions(values: Flags): Pick<GatewayOptions, 'authentication'> {
  const list = str(values, 'trusted-proxies', 'DH_TRUSTED_PROXIES');
  if (list === undefined) return {};
  const trustedProxies = list
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  return { authentication: { trustedProxies } };
}

function checkTunnelFlags(values: Flags) {
  const portsRaw = str(values, 'tunnel-ports', 'DH_TUNNEL_PORTS') ?? '20000-20999';
  const range = /^(\d{1,5})-(\d{1,5})$/.exec(portsRaw);
  if (range === null || Number(range[1]) > Number(range[2]) || Number(range[2]) > 65535)
    throw new RangeError(
      `Invalid --tunnel-ports / DH_TUNNEL_PORTS: expected LOW-HIGH within 1..65535, got "${portsRaw}"`,
    );
  const muxRaw = str(values, 'tunnel-mux', 'DH_TUNNEL_MUX');
  const mux = muxRaw === undefined ? undefined : /^(\d{1,5}):([A-Za-z0-9.-]+)$/.exec(muxRaw);
  if (mux === null)
    throw new RangeError(`Invalid --tunnel-mux / DH_TUNNEL_MUX: expected PORT:DOMAIN, got "${muxRaw}"`);
  return { range, mux };
}

function brokerOptions(values: Flags): GatewayOptions['broker'] {
  const brokerUrl = str(values, 'broker-admin-url', 'DH_BROKER_ADMIN_URL');
  const brokerPassword = str(values, 'broker-admin-password', 'DH_BROKER_ADMIN_PASSWORD');
  if (brokerUrl !== undefined && brokerPassword === undefined)
    throw new RangeError(
      '--broker-admin-url / DH_BROKER_ADMIN_URL needs --broker-admin-password / DH_BROKER_ADMIN_PASSWORD',
    );
  if (brokerUrl === undefined || brokerPassword === undefined) return undefined;
  const linkPassword = str(values, 'broker-link-password', 'DH_BROKER_LINK_PASSWORD');
  const brokerUser = str(values, 'broker-admin-user', 'DH_BROKER_ADMIN_USER');
  return {
    url: brokerUrl,
    password: brokerPassword,
    ...(brokerUser === undefined ? {} : { username: brokerUser }),
    ...(linkPassword === undefined ? {} : { links: { [LINK_USER]: linkPassword } }),
    reconcileMs:
      intFlag(values, { name: 'broker-reconcile', env: 'DH_BROKER_RECONCILE_S', fallback: 60 }) * 1000,
  };
}

/** The authenticated Kafka's admin: brokers, the hub's login (password from the environment only), the CA. */
export function kafkaAdminOptions(values: Flags): GatewayOptions['kafka'] {
  const list = str(values, 'kafka-admin-brokers', 'DH_KAFKA_ADMIN_BROKERS');
  if (list === undefined) return undefined;
  const brokers = list
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const password = process.env.DH_KAFKA_ADMIN_PASSWORD;
  const caFile = str(values, 'kafka-admin-ca', 'DH_KAFKA_ADMIN_CA_FILE');
  if (brokers.length === 0 || password === undefined || caFile === undefined)
    throw new RangeError(
      '--kafka-admin-brokers / DH_KAFKA_ADMIN_BROKERS needs brokers, DH_KAFKA_ADMIN_PASSWORD (environment only) and --kafka-admin-ca / DH_KAFKA_ADMIN_CA_FILE',
    );
  return {
    brokers,
    username: str(values, 'kafka-admin-user', 'DH_KAFKA_ADMIN_USER') ?? DEFAULT_KAFKA_ADMIN_USER,
    password,
    caFile,
  };
}

function tunnelOptions(
  values: Flags,
  { range, mux }: ReturnType<typeof checkTunnelFlags>,
): GatewayOptions['tunnels'] {
  const serverAddr = str(values, 'tunnel-server', 'DH_TUNNEL_SERVER');
  const sshKey = str(values, 'tunnel-ssh-key', 'DH_TUNNEL_SSH_KEY');
  return {
    ports: { low: Number(range[1]), high: Number(range[2]) },
    publicHost: str(values, 'tunnel-host', 'DH_TUNNEL_HOST') ?? '127.0.0.1',
    maxTtlSeconds: intFlag(values, { name: 'tunnel-max-ttl', env: 'DH_TUNNEL_MAX_TTL', fallback: 4 * 3600 }),
    ...(serverAddr === undefined ? {} : { serverAddr }),
    ...(mux === undefined
      ? {}
      : { mux: { port: Number(mux[1]), domain: mux[2]!, ...tunnelSecretKey(values) } }),
    ...(sshKey === undefined
      ? {}
      : {
          ssh: {
            user: str(values, 'tunnel-ssh-user', 'DH_TUNNEL_SSH_USER') ?? 'root',
            privateKey: readFileSync(sshKey),
          },
        }),
  };
}

/** The key tunnel secrets are derived from (a file; the same on every gateway), if given. */
function tunnelSecretKey(values: Flags): { secretKey?: Buffer } {
  const file = str(values, 'tunnel-secret-file', 'DH_TUNNEL_SECRET_FILE');
  if (file === undefined) return {};
  const secretKey = readFileSync(file);
  if (secretKey.length < MIN_SECRET_KEY_BYTES)
    throw new RangeError(
      `--tunnel-secret-file / DH_TUNNEL_SECRET_FILE: ${file} holds ${secretKey.length} bytes, at least ${MIN_SECRET_KEY_BYTES} needed (e.g. openssl rand -hex 32 > ${file})`,
    );
  return { secretKey };
}

function webBackendOptions(values: Flags): GatewayOptions['webBackend'] {
  const webBackendUrl = str(values, 'web-backend-url', 'DH_WEB_BACKEND_URL');
  if (webBackendUrl === undefined) return undefined;
  const token = str(values, 'web-backend-token', 'DH_WEB_BACKEND_TOKEN');
  return {
    url: webBackendUrl,
    ...(token === undefined ? {} : { token }),
    partitions: intFlag(values, {
      name: 'web-backend-partitions',
      env: 'DH_WEB_BACKEND_PARTITIONS',
      fallback: 16,
    }),
    ratePerSecond: intFlag(values, { name: 'web-backend-rate', env: 'DH_WEB_BACKEND_RATE', fallback: 1000 }),
  };
}

/** The certificate and key to serve HTTPS with (none: plain HTTP); throws naming the missing half. */
export function gatewayTls(values: Flags): { certFile: string; keyFile: string } | undefined {
  const certFile = str(values, 'tls-cert', 'DH_GATEWAY_TLS_CERT');
  const keyFile = str(values, 'tls-key', 'DH_GATEWAY_TLS_KEY');
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined)
    throw new RangeError(
      '--tls-cert / DH_GATEWAY_TLS_CERT and --tls-key / DH_GATEWAY_TLS_KEY go together (HTTPS needs both)',
    );
  return { certFile, keyFile };
}
