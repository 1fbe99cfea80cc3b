/**
 * The setup of `devicehub agent`: its configuration file's JSON with the DH_AGENT_* variables
 * over it, read into the agent's options, the local input port, the tunnels and the updates;
 * each bad field a ConfigError naming the field, the variable and the file.
 */
import { join } from 'node:path';
import type { EdgeAgentOptions } from '../edge/agent/mod.ts';
import { isClipCamera } from '../edge/protocol/mod.ts';
import { ConfigError } from './settings.ts';

type Json = Record<string, unknown>;

/** What `devicehub agent` runs: the agent's options and the parts around it. */
export interface AgentSetup {
  readonly agent: Omit<EdgeAgentOptions, 'executors' | 'logger'>;
  /** The CA file the configuration service's certificate must chain to (read at start). */
  readonly caFile?: string;
  /** The edge's client certificate and key files for the broker's mTLS listener (read at start). */
  readonly client?: { readonly certFile: string; readonly keyFile: string };
  readonly localPort: number;
  /** Updates: mirrors and the TUF metadata URL until the configuration names them, the device's TUF root. */
  readonly updates?: {
    readonly mirrors?: string[];
    readonly metadataUrl?: string;
    readonly rootFile?: string;
  };
  readonly tunnels?: {
    readonly frpc: string;
    readonly token: string;
    readonly serverAddr?: string;
    readonly services: Record<string, string>;
    readonly dir: string;
  };
}

/** The setup from the configuration file's JSON (`source` names it) and the environment over it. */
export function agentSetup(
  file: unknown,
  env: Record<string, string | undefined>,
  source: string,
): AgentSetup {
  if (typeof file !== 'object' || file === null || Array.isArray(file))
    throw new ConfigError(`Invalid agent configuration ${source}: expected a JSON object`);
  const read = configReader(file as Json, env, source);
  const frames = framesSetup(read);
  const agent = { ...agentOptions(read), ...(frames === undefined ? {} : { frames }) };
  const localPort =
    read.int(read.json, 'localPort', { min: 0, max: 65535, variable: 'DH_AGENT_LOCAL_PORT' }) ?? 0;
  const tunnels = tunnelSetup(read, agent.dataDir);
  const updates = updatesSetup(read);
  const caFile = read.text(read.json, 'caFile', 'DH_AGENT_CA_FILE');
  const certFile = read.text(read.json, 'certFile', 'DH_AGENT_CERT_FILE');
  const keyFile = read.text(read.json, 'keyFile', 'DH_AGENT_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined))
    read.fail(
      certFile === undefined ? 'certFile' : 'keyFile',
      'is required with the other (certFile, keyFile)',
    );
  return {
    agent,
    localPort,
    ...(tunnels === undefined ? {} : { tunnels }),
    ...(updates === undefined ? {} : { updates }),
    ...(caFile === undefined ? {} : { caFile }),
    ...(certFile === undefined || keyFile === undefined ? {} : { client: { certFile, keyFile } }),
  };
}

/** An integer field's bounds and the DH_AGENT_* variable that overrides it. */
interface IntRange {
  readonly min: number;
  readonly max: number;
  readonly variable?: string;
}

/** Reads fields of the configuration file, a DH_AGENT_* variable winning over its field. */
interface ConfigReader {
  readonly json: Json;
  /** Throws ConfigError naming the field, the variable and the file. */
  fail(field: string, problem: string, variable?: string): never;
  text(o: Json, field: string, variable?: string): string | undefined;
  required(o: Json, field: string, variable?: string): string;
  int(o: Json, field: string, range: IntRange): number | undefined;
  object(field: string): Json | undefined;
}

function configReader(json: Json, env: Record<string, string | undefined>, source: string): ConfigReader {
  const fail = (field: string, problem: string, variable?: string): never => {
    throw new ConfigError(
      `Invalid agent configuration: ${field} ${problem} (${variable ? `${variable} or ` : ''}${source})`,
      { variable },
    );
  };
  const text = (o: Json, field: string, variable?: string): string | undefined => {
    const value = (variable && env[variable]) || o[field.split('.').at(-1)!];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') fail(field, 'must be a non-empty string', variable);
    return value as string;
  };
  const required = (o: Json, field: string, variable?: string): string =>
    text(o, field, variable) ?? fail(field, 'is required', variable);
  const int = (o: Json, field: string, range: IntRange): number | undefined => {
    const { min, max, variable } = range;
    const raw = (variable && env[variable]) || o[field.split('.').at(-1)!];
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max)
      fail(field, `must be an integer ${min}..${max}, got ${JSON.stringify(raw)}`, variable);
    return value;
  };
  const object = (field: string): Json | undefined => {
    const value = json[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, 'must be an object');
    return value as Json;
  };
  return { json, fail, text, required, int, object };
}

/** The agent's own options: identity, birth record, queue, broker and configuration service. */
function agentOptions(read: ConfigReader): AgentSetup['agent'] {
  const { json, fail, text, required, int } = read;
  const birthJson = read.object('birth') ?? fail('birth', 'is required');
  const birth = {
    model: required(birthJson, 'birth.model'),
    firmware: required(birthJson, 'birth.firmware'),
    registrationCode: required(birthJson, 'birth.registrationCode'),
    buildingId: required(birthJson, 'birth.buildingId'),
    elevatorNo: required(birthJson, 'birth.elevatorNo'),
  };
  // The Ezviz camera filming the car, when the installer wrote it here (else the edge configuration's).
  const { camera } = birthJson;
  if (camera !== undefined && !isClipCamera(camera))
    fail('birth.camera', 'must be { serial: 1–32 of [A-Za-z0-9], channel: 1..256 }');
  const dataDir = required(json, 'dataDir', 'DH_AGENT_DATA_DIR');
  const brokerUrl = text(json, 'brokerUrl', 'DH_AGENT_BROKER_URL');
  const configUrl = text(json, 'configUrl', 'DH_AGENT_CONFIG_URL');
  if (brokerUrl === undefined && configUrl === undefined)
    fail('brokerUrl', 'or configUrl is required (else the agent reaches no broker)', 'DH_AGENT_BROKER_URL');
  const pollSeconds = int(json, 'pollSeconds', { min: 1, max: 86_400 });
  return {
    edgeId: required(json, 'edgeId', 'DH_AGENT_EDGE_ID'),
    password: required(json, 'password', 'DH_AGENT_PASSWORD'),
    birth: isClipCamera(camera)
      ? { ...birth, camera: { serial: camera.serial, channel: camera.channel } }
      : birth,
    dataDir,
    brokerUrl,
    configUrl,
    pollMs: pollSeconds === undefined ? undefined : pollSeconds * 1000,
    longPollSeconds: int(json, 'longPollSeconds', { min: 0, max: 300 }),
    maxQueueBytes: int(json, 'maxQueueBytes', { min: 1024, max: 2 ** 40 }),
  };
}

/** The `updates` section: mirrors (URLs), the TUF metadata URL and root file; undefined without one. */
function updatesSetup(read: ConfigReader): AgentSetup['updates'] {
  const json = read.object('updates');
  if (json === undefined) return undefined;
  const mirrors = json.mirrors;
  if (mirrors !== undefined && (!Array.isArray(mirrors) || !mirrors.every((m) => URL.canParse(String(m)))))
    read.fail('updates.mirrors', 'must be a list of URLs, e.g. ["https://cdn-1.example:8443"]');
  const [metadataUrl, rootFile] = [
    read.text(json, 'updates.metadataUrl'),
    read.text(json, 'updates.rootFile'),
  ];
  return { mirrors: mirrors as string[] | undefined, metadataUrl, rootFile };
}

/** The tunnel executor's setup, or undefined when neither frpc nor a tunnel token is given. */
function tunnelSetup(read: ConfigReader, dataDir: string): AgentSetup['tunnels'] {
  const { fail, text } = read;
  const tunnelJson = read.object('tunnels') ?? {};
  const frpc = text(tunnelJson, 'tunnels.frpc', 'DH_AGENT_FRPC');
  const token = text(tunnelJson, 'tunnels.token', 'DH_AGENT_TUNNEL_TOKEN');
  if (frpc === undefined && token === undefined) return undefined;
  if (frpc === undefined) fail('tunnels.frpc', 'is required with a tunnel token', 'DH_AGENT_FRPC');
  if (token === undefined) fail('tunnels.token', 'is required with frpc', 'DH_AGENT_TUNNEL_TOKEN');
  const services = tunnelJson.services ?? {};
  if (
    typeof services !== 'object' ||
    services === null ||
    !Object.values(services).every((t) => typeof t === 'string' && /^[^:\s]+:\d{1,5}$/.test(t))
  )
    fail('tunnels.services', 'must map each service to host:port, e.g. { "ssh": "127.0.0.1:22" }');
  return {
    frpc: frpc as string,
    token: token as string,
    serverAddr: text(tunnelJson, 'tunnels.serverAddr'),
    services: services as Record<string, string>,
    dir: text(tunnelJson, 'tunnels.dir') ?? join(dataDir, 'frpc'),
  };
}

/**
 * The `frames` section (vision frames, issue 17): where elenet leaves them (`source`, or
 * DH_AGENT_FRAMES_SOURCE), the alarm kinds that take them, how many and how fresh; undefined
 * without a source.
 */
function framesSetup(read: ConfigReader): EdgeAgentOptions['frames'] {
  const json = read.object('frames') ?? {};
  const source = read.text(json, 'frames.source', 'DH_AGENT_FRAMES_SOURCE');
  if (source === undefined) {
    if (Object.keys(json).length > 0) read.fail('frames.source', 'is required with the frames section');
    return undefined;
  }
  const { kinds } = json;
  if (
    kinds !== undefined &&
    (!Array.isArray(kinds) || kinds.length === 0 || !kinds.every((k) => typeof k === 'string' && k !== ''))
  )
    read.fail('frames.kinds', 'must be a non-empty list of alarm kinds, e.g. ["trapped", "ebike"]');
  const maxFrames = read.int(json, 'frames.maxFrames', { min: 1, max: 4 });
  const maxAgeSeconds = read.int(json, 'frames.maxAgeSeconds', { min: 1, max: 3600 });
  const maxQueueBytes = read.int(json, 'frames.maxQueueBytes', { min: 2 * 1024 * 1024, max: 2 ** 40 });
  return {
    source,
    ...(kinds === undefined ? {} : { kinds: kinds as string[] }),
    ...(maxFrames === undefined ? {} : { maxFrames }),
    ...(maxAgeSeconds === undefined ? {} : { maxAgeMs: maxAgeSeconds * 1000 }),
    ...(maxQueueBytes === undefined ? {} : { maxBytes: maxQueueBytes }),
  };
}
