/**
 * Runs a real `mosquitto` on a free loopback port with DeviceHub's security model, held by the
 * dynamic-security plugin (dynsec): no anonymous clients, one client and one role per edge (it may
 * send only under `dh/v1/<its id>/up/#` and `…/legacy`, and subscribe only to
 * `dh/v1/<its id>/down`), the hub's link users on all of `dh/#` (shared subscriptions included),
 * an admin (`server.admin`) the gateway manages identities with while it runs, and a packet size
 * limit. The initial identities are written to dynsec's file before the start.
 *
 * With `tls` it also listens with TLS (1.2 at least) on three more loopback ports, each taking
 * the fleet CA's certificates: `mtlsUrl`, the edges' mutual-TLS listener, where a client must
 * present a certificate and is its CN (`use_identity_as_username`: no password is checked, dynsec's
 * ACLs apply to that name, so an edge's certificate confines it to its own topics and a CN dynsec
 * does not know is denied everything) and its client id is that name too
 * (`use_username_as_clientid`: no edge can take over another's session by claiming its client
 * id), with the fleet's CRL checked at each handshake when `crlFile` is given (mosquitto 2.0 reads
 * it only at start); `tlsUrl`, where edges log in with their password over TLS (client id = user
 * name as well); and `hubUrl`, mutual TLS for the hub's own services (the links, each process its
 * own client id), which a deployment keeps off the edges' networks.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ADMIN_USER, dynsecConfig, isEdgeUser, LINK_USER } from '../edge/broker/mod.ts';
import { freePorts } from './free-port.ts';
import { type ServerProcess, startServerProcess, withControls } from './server-process.ts';

/**
 * Largest MQTT packet the broker takes (64 KiB): above the links' 16 KiB device message limit, so
 * a message between the two still reaches a link and is dead-lettered with its reason; a bigger
 * packet makes mosquitto disconnect its sender (an MQTT 5 client hears the limit in CONNACK).
 */
export const BROKER_MAX_PACKET_BYTES = 64 * 1024;

const DYNSEC_PLUGIN_PATHS = [
  '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/mosquitto_dynamic_security.so',
  '/usr/local/lib/mosquitto_dynamic_security.so',
];

export interface MosquittoOptions {
  /**
   * Users and passwords: the hub's link users and each edge (the user name of an edge is its id).
   * A name no edge id can be (e.g. LINK_USER, `link@devicehub`) is a link user.
   */
  readonly users: Readonly<Record<string, string>>;
  /**
   * Link users named explicitly (default: every user whose name cannot be an edge id, and `hub`
   * for callers from before LINK_USER — a name an edge could hold, so not for deployments).
   */
  readonly hubUsers?: readonly string[];
  /** The admin's password (default: random; `server.admin` has it). */
  readonly adminPassword?: string;
  readonly port?: number;
  /**
   * Plaintext loopback listeners (default 1), each on a port of its own. mosquitto listens with a
   * fixed backlog of 100, so edges reconnecting by the ten thousand overflow one listener's accept
   * queue and wait for TCP's SYN retries; several listeners, the edges spread over them, give the
   * broker more queues (bench/scale, decision 055).
   */
  readonly listeners?: number;
  /** Largest packet (default BROKER_MAX_PACKET_BYTES). */
  readonly maxPacketBytes?: number;
  /** TLS listeners next to the plaintext loopback one (see the module's comment). */
  readonly tls?: MosquittoTlsOptions;
  /**
   * The broker's open-file limit (a client holds one): raised to this, at most the hard cap
   * (`openFileCap()`), with util-linux's `prlimit` before it starts. Default: inherited.
   */
  readonly openFiles?: number;
}

/** This process's open-file limits (`ulimit -Sn`, `-Hn`): what a broker or simulator can raise to. */
export function openFileCap(): { readonly soft: number; readonly hard: number } {
  const read = (flag: string) => {
    const out = spawnSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).stdout.trim();
    return out === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(out);
  };
  return { soft: read('-Sn'), hard: read('-Hn') };
}

/** PEM files of the broker's TLS listeners. */
export interface MosquittoTlsOptions {
  /** The fleet CA: client certificates on the mTLS listener must chain to it. */
  readonly caFile: string;
  /** The broker's server certificate and key. */
  readonly certFile: string;
  readonly keyFile: string;
  /** The fleet's CRL, read at start (and at each restart): handshakes of listed serials fail. */
  readonly crlFile?: string;
  /** Ports (default: free ones). */
  readonly mtlsPort?: number;
  readonly tlsPort?: number;
  readonly hubPort?: number;
}

/** The TLS listeners of a broker started with `tls`. */
export interface MosquittoTlsListeners {
  /** `mqtts://127.0.0.1:<port>`: a client certificate required, its CN is the user. */
  readonly mtlsUrl: string;
  readonly mtlsPort: number;
  /** `mqtts://127.0.0.1:<port>`: user name and password over TLS. */
  readonly tlsUrl: string;
  readonly tlsPort: number;
  /** `mqtts://127.0.0.1:<port>`: the hub's services, a client certificate required, its CN the user. */
  readonly hubUrl: string;
  readonly hubPort: number;
}

/**
 * mosquitto.conf lines of the three TLS listeners: `mtls` (the edges': a certificate of the fleet
 * CA required, its CN the user and the client id, the CRL checked), `tls` (edges' passwords over
 * TLS, the user name the client id) and `hub` (the hub's services: a certificate required, its CN
 * the user, client ids their own). deploy/mosquitto/mosquitto.conf has the same for compose.
 */
export function tlsListenerConf(
  tls: Omit<MosquittoTlsOptions, 'mtlsPort' | 'tlsPort' | 'hubPort'>,
  ports: { readonly mtls: number; readonly tls: number; readonly hub: number; readonly bind?: string },
): string[] {
  const bind = ports.bind === undefined ? '' : ` ${ports.bind}`;
  const server = [`certfile ${tls.certFile}`, `keyfile ${tls.keyFile}`, 'tls_version tlsv1.2'];
  const mutual = [
    `cafile ${tls.caFile}`,
    'require_certificate true',
    'use_identity_as_username true',
    ...(tls.crlFile === undefined ? [] : [`crlfile ${tls.crlFile}`]),
  ];
  return [
    `listener ${ports.mtls}${bind}`,
    ...server,
    ...mutual,
    'use_username_as_clientid true',
    `listener ${ports.tls}${bind}`,
    ...server,
    'require_certificate false',
    'use_username_as_clientid true',
    `listener ${ports.hub}${bind}`,
    ...server,
    ...mutual,
  ];
}

/** `restart` stops it with SIGTERM: mosquitto saves its sessions and queued messages first. */
export interface MosquittoServer extends ServerProcess, AsyncDisposable {
  readonly url: string;
  /** Every plaintext listener's URL (`url` first; more with `listeners`). */
  readonly urls: readonly string[];
  readonly port: number;
  readonly dir: string;
  /** Who may manage identities over `$CONTROL/dynamic-security/v1`. */
  readonly admin: { readonly username: string; readonly password: string };
  /** The link user (the first of the hub users). */
  readonly linkUser: string;
  /** The TLS listeners, when started with `tls`. */
  readonly tls: MosquittoTlsListeners | undefined;
}

/** The `mosquitto` binary (or another of its package's, e.g. `mosquitto_ctrl`). */
export function mosquittoBinary(name = 'mosquitto'): string {
  for (const candidate of [name, `/usr/sbin/${name}`, `/usr/bin/${name}`]) {
    if (spawnSync(candidate, ['-h'], { encoding: 'utf8' }).error === undefined) return candidate;
  }
  throw new Error(
    `Cannot start mosquitto: "${name}" was not found. Run \`sh infra/provision.sh\` (apt-get install mosquitto as root).`,
  );
}

/** Where the dynamic-security plugin is installed. */
export function dynsecPlugin(): string {
  const found = DYNSEC_PLUGIN_PATHS.find((p) => existsSync(p));
  if (found === undefined)
    throw new Error(
      `Cannot start mosquitto: its dynamic-security plugin is not in ${DYNSEC_PLUGIN_PATHS.join(', ')}. Run \`sh infra/provision.sh\` (apt-get install mosquitto as root).`,
    );
  return found;
}

export async function startMosquitto(options: MosquittoOptions): Promise<MosquittoServer> {
  const mosquitto = mosquittoBinary();
  const plugin = dynsecPlugin();
  // Every port this broker needs picked at once, distinct from each other (freePorts): its
  // listener, the three TLS ones, then the plain listeners past the first.
  const [plain, mtls, tlsPort, hub, ...morePlain] = (await freePorts(
    4 + Math.max(0, (options.listeners ?? 1) - 1),
  )) as [number, number, number, number, ...number[]];
  const port = options.port ?? plain;
  const tls =
    options.tls === undefined
      ? undefined
      : {
          mtls: options.tls.mtlsPort ?? mtls,
          tls: options.tls.tlsPort ?? tlsPort,
          hub: options.tls.hubPort ?? hub,
          bind: '127.0.0.1',
        };
  const dir = mkdtempSync(join(tmpdir(), 'devicehub-mosquitto-'));
  const hubUsers = new Set(
    options.hubUsers ?? Object.keys(options.users).filter((u) => u === 'hub' || !isEdgeUser(u)),
  );
  const links: Record<string, string> = {};
  const edges: Record<string, string> = {};
  for (const [user, password] of Object.entries(options.users)) {
    if (hubUsers.has(user)) links[user] = password;
    else edges[user] = password;
  }
  const admin = { username: ADMIN_USER, password: options.adminPassword ?? randomBytes(16).toString('hex') };
  const dynsecFile = join(dir, 'dynamic-security.json');
  writeFileSync(dynsecFile, JSON.stringify(dynsecConfig({ edges, links, adminPassword: admin.password })), {
    mode: 0o600,
  });
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      // Every listener shares the security settings below (per_listener_settings false).
      `listener ${port} 127.0.0.1`,
      ...morePlain.map((p) => `listener ${p} 127.0.0.1`),
      ...(tls === undefined || options.tls === undefined ? [] : tlsListenerConf(options.tls, tls)),
      'allow_anonymous false',
      `plugin ${plugin}`,
      `plugin_opt_config_file ${dynsecFile}`,
      `max_packet_size ${options.maxPacketBytes ?? BROKER_MAX_PACKET_BYTES}`,
      // Stay the user who started it (as root, mosquitto would switch to an account that cannot read these files).
      `user ${userInfo().username}`,
      // Sessions and queued QoS 1 messages survive a restart (saved on SIGTERM and every 10 s).
      'persistence true',
      `persistence_location ${dir}/`,
      'autosave_interval 10',
      'max_queued_messages 100000',
      // No client limit of its own (the open-file limit binds), and small packets (PUBACKs) sent
      // at once rather than after Nagle's wait.
      'max_connections -1',
      'set_tcp_nodelay true',
      `log_dest file ${join(dir, 'mosquitto.log')}`,
      '',
    ].join('\n'),
  );
  const proc = await startServerProcess({
    name: 'mosquitto',
    port,
    morePorts: [...morePlain, ...(tls === undefined ? [] : [tls.mtls, tls.tls, tls.hub])],
    timeoutMs: 10_000,
    spawnServer: () =>
      spawn(...withOpenFiles(options.openFiles, [mosquitto, '-c', join(dir, 'mosquitto.conf')]), {
        stdio: 'ignore',
      }),
    describeExit: (code) => `mosquitto exited with ${code}; see ${dir}/mosquitto.log`,
  });
  const server: MosquittoServer = withControls(proc, {
    url: `mqtt://127.0.0.1:${port}`,
    urls: [port, ...morePlain].map((p) => `mqtt://127.0.0.1:${p}`),
    port,
    dir,
    admin,
    linkUser: [...hubUsers][0] ?? LINK_USER,
    tls:
      tls === undefined
        ? undefined
        : {
            mtlsUrl: `mqtts://127.0.0.1:${tls.mtls}`,
            mtlsPort: tls.mtls,
            tlsUrl: `mqtts://127.0.0.1:${tls.tls}`,
            tlsPort: tls.tls,
            hubUrl: `mqtts://127.0.0.1:${tls.hub}`,
            hubPort: tls.hub,
          },
  });
  return server;
}

/** `command` run under an open-file limit of `openFiles` (capped at the hard limit) via `prlimit`. */
function withOpenFiles(openFiles: number | undefined, command: string[]): [string, string[]] {
  if (openFiles === undefined) return [command[0]!, command.slice(1)];
  const n = Math.min(openFiles, openFileCap().hard);
  return ['prlimit', [`--nofile=${n}:${n}`, '--', ...command]];
}
