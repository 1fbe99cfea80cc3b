/**
 * The settings of `devicehub gateway`: HTTP, its database, the web backend, tunnels, the broker's
 * identities and the edges' Kafka credentials. Every command's help loads this table, so it
 * imports nothing of the hub (edge/agent/standalone.test.ts).
 */

import { addressRanges, hostPorts, nonEmpty, ranged, type Setting, url } from './setting-checks.ts';

export const GATEWAY_SETTINGS: readonly Setting[] = [
  { name: 'PORT', commands: ['gateway'], doc: 'HTTP port', ...ranged(0, 65535) },
  { name: 'HOST', commands: ['gateway'], doc: 'HTTP listen address', check: nonEmpty },
  {
    name: 'DATABASE_URL',
    commands: ['gateway', 'clips'],
    doc: 'postgres://… (else embedded PGlite in DH_DATA_DIR)',
    check: url('postgres:', 'postgresql:'),
  },
  { name: 'DH_DATA_DIR', commands: ['gateway'], doc: 'embedded PGlite folder', check: nonEmpty },
  {
    name: 'DH_TRUSTED_PROXIES',
    commands: ['gateway'],
    doc: 'proxies whose X-Forwarded-For names the client: addresses or CIDR ranges, comma-separated',
    check: addressRanges,
  },
  {
    name: 'DH_GATEWAY_TLS_CERT',
    commands: ['gateway'],
    doc: 'serve HTTPS with this certificate (PEM file; with DH_GATEWAY_TLS_KEY; SIGHUP reloads it)',
    check: nonEmpty,
  },
  {
    name: 'DH_GATEWAY_TLS_KEY',
    commands: ['gateway'],
    doc: 'the TLS certificate’s key (PEM file)',
    check: nonEmpty,
  },
  {
    name: 'DH_OBJECT_STORE',
    commands: ['gateway', 'clips', 'recognize'],
    doc: 'where artifacts are kept: file:///abs/dir or s3://bucket?endpoint=…&region=…&forcePathStyle=1 (default file://$PWD/.devicehub/objects; S3 keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)',
    check: url('file:', 's3:'),
  },
  {
    name: 'DH_MAX_ARTIFACT_BYTES',
    commands: ['gateway'],
    doc: 'the largest artifact upload, bytes (default 2147483648)',
    ...ranged(1, Number.MAX_SAFE_INTEGER),
  },
  {
    name: 'DH_MAX_FRAME_BYTES',
    commands: ['gateway'],
    doc: 'the largest vision frame (JPEG) an edge uploads, bytes (default 2097152; over it: 413)',
    ...ranged(1, 64 * 1024 * 1024),
  },
  {
    name: 'DH_IDENTITY_DIR',
    commands: ['gateway'],
    doc: 'the fleet CA (ca.key, ca.crt) and the sealing key (sealing.key): certificates and rotations',
    check: nonEmpty,
  },
  {
    name: 'DH_TUF_KEYS_DIR',
    commands: ['gateway'],
    doc: 'the TUF signing keys (roles.json, <role>-<n>.pem ed25519): signed update metadata at /v1/tuf/metadata',
    check: nonEmpty,
  },
  {
    name: 'DH_TUF_CREATE',
    commands: ['gateway'],
    doc: '1: generate what is missing in DH_TUF_KEYS_DIR (a demo; a cluster shares the operator’s keys)',
    check: nonEmpty,
  },
  {
    name: 'DH_IDENTITY_CREATE',
    commands: ['gateway'],
    doc: '1: generate what is missing in DH_IDENTITY_DIR (a demo; a cluster shares the operator’s files)',
    check: nonEmpty,
  },
  {
    name: 'DH_CRL_FILE',
    commands: ['gateway'],
    doc: 'where the CRL is written on every revocation (the broker’s crlfile)',
    check: nonEmpty,
  },
  {
    name: 'DH_WEB_BACKEND_URL',
    commands: ['gateway'],
    doc: 'where fleet events are POSTed',
    check: url('http:', 'https:'),
  },
  {
    name: 'DH_WEB_BACKEND_TOKEN',
    commands: ['gateway'],
    doc: 'bearer token for the web backend',
    check: nonEmpty,
  },
  {
    name: 'DH_WEB_BACKEND_PARTITIONS',
    commands: ['gateway'],
    doc: 'BullMQ partition queues',
    ...ranged(1, 256),
  },
  {
    name: 'DH_WEB_BACKEND_RATE',
    commands: ['gateway'],
    doc: 'most deliveries per second',
    ...ranged(1, 1_000_000),
  },
  {
    name: 'DH_PUBLIC_URL',
    commands: ['gateway'],
    doc: 'the gateway’s address as clients reach it, http(s)://host[:port]: alarm-clip links on it (none: the API’s are paths, clip.ready’s on http(s)://HOST:PORT)',
    check: url('http:', 'https:'),
  },
  {
    name: 'DH_CLIP_URL_SECRET_FILE',
    commands: ['gateway'],
    doc: 'key (file, ≥ 32 bytes, the same on every gateway) alarm clips’ links are signed with (default ./.devicehub/clip-url.key, created when missing)',
    check: nonEmpty,
  },
  {
    name: 'DH_CLIP_URL_TTL',
    commands: ['gateway'],
    doc: 'seconds an alarm clip’s link from the API works (default 3600)',
    ...ranged(1, 30 * 86_400),
  },
  {
    name: 'DH_CLIP_WEB_BACKEND_URL_TTL',
    commands: ['gateway'],
    doc: 'seconds the links in a clip.ready event to the web backend work (default 86400)',
    ...ranged(1, 30 * 86_400),
  },
  {
    name: 'DH_TUNNEL_PORTS',
    commands: ['gateway'],
    doc: 'frps remote port range FROM-TO',
    check: (v) => (/^\d{1,5}-\d{1,5}$/.test(v) ? undefined : 'expected FROM-TO'),
  },
  { name: 'DH_TUNNEL_HOST', commands: ['gateway'], doc: 'public host operators connect to', check: nonEmpty },
  {
    name: 'DH_TUNNEL_SERVER',
    commands: ['gateway'],
    doc: 'frps address edges dial (host:port)',
    check: hostPorts,
  },
  {
    name: 'DH_TUNNEL_MAX_TTL',
    commands: ['gateway'],
    doc: 'longest tunnel (s)',
    ...ranged(60, 7 * 24 * 3600),
  },
  {
    name: 'DH_TUNNEL_MUX',
    commands: ['gateway'],
    doc: 'frps tcpmux PORT:DOMAIN',
    check: (v) => (/^\d{1,5}:[A-Za-z0-9.-]+$/.test(v) ? undefined : 'expected PORT:DOMAIN'),
  },
  {
    name: 'DH_TUNNEL_SECRET_FILE',
    commands: ['gateway'],
    doc: 'key (file, ≥ 32 bytes, the same on every gateway) tunnel secrets are derived from',
    check: nonEmpty,
  },
  {
    name: 'DH_TUNNEL_SECRET',
    commands: [],
    doc: 'devicehub connect: the tunnel’s secret from the open response (read by that command only)',
    check: nonEmpty,
  },
  {
    name: 'DH_TUNNEL_SSH_KEY',
    commands: ['gateway'],
    doc: 'private key file for the browser terminal',
    check: nonEmpty,
  },
  {
    name: 'DH_TUNNEL_SSH_USER',
    commands: ['gateway'],
    doc: 'user for the browser terminal',
    check: nonEmpty,
  },
  {
    name: 'DH_BROKER_ADMIN_URL',
    commands: ['gateway'],
    doc: 'mqtt://host:port of the broker whose edge identities the gateway manages (none: not managed)',
    check: url('mqtt:', 'mqtts:'),
  },
  {
    name: 'DH_BROKER_ADMIN_USER',
    commands: ['gateway'],
    doc: 'the broker’s dynamic-security admin (default admin@devicehub)',
    check: nonEmpty,
  },
  {
    name: 'DH_BROKER_ADMIN_PASSWORD',
    commands: ['gateway'],
    doc: 'the broker admin’s password',
    check: nonEmpty,
  },
  {
    name: 'DH_BROKER_LINK_PASSWORD',
    commands: ['gateway'],
    doc: 'password of the link user (link@devicehub) the gateway creates on a bare broker',
    check: nonEmpty,
  },
  {
    name: 'DH_BROKER_RECONCILE_S',
    commands: ['gateway'],
    doc: 'seconds between passes bringing the broker in line with the registry (0: none)',
    ...ranged(0, 86_400),
  },
  {
    name: 'DH_KAFKA_ADMIN_BROKERS',
    commands: ['gateway'],
    doc: 'host:port,… of the SASL_SSL Kafka whose edge credentials the gateway manages (none: not managed)',
    check: hostPorts,
  },
  {
    name: 'DH_KAFKA_ADMIN_USER',
    commands: ['gateway'],
    doc: 'the hub’s SCRAM-SHA-512 super user on that Kafka (default hub@devicehub)',
    check: nonEmpty,
  },
  {
    name: 'DH_KAFKA_ADMIN_PASSWORD',
    commands: ['gateway'],
    doc: 'its password (environment only, never a flag)',
    check: nonEmpty,
  },
  {
    name: 'DH_KAFKA_ADMIN_CA_FILE',
    commands: ['gateway'],
    doc: 'CA (PEM file) the Kafka brokers’ certificates chain to (the fleet CA)',
    check: nonEmpty,
  },
];
