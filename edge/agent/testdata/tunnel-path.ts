/**
 * What the tunnel tests share: the whole remote-access path with the real frp — the gateway's
 * tunnel API → the edge actor → the MQTT downlink → the agent's tunnel executor → frpc → frps —
 * with small real HTTP servers standing in for the camera's admin page and the litefcccore
 * console, and an OpenSSH server the suite starts for the edge's sshd (edge E-7).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import WebSocket from 'ws';
import { createApiKey, createGateway, openDatabase, serveGateway } from '../../../gateway/mod.ts';
import {
  type FrpsServer,
  frpBinary,
  type MosquittoServer,
  type SshdServer,
  startFrps,
  startMosquitto,
  startSshd,
  waitFor,
} from '../../../infra/mod.ts';
import { claimPortBlock, type PortBlock } from '../../../infra/port-block.ts';
import { type TestRedis, useRedis } from '../../../infra/test-redis.ts';
import { startTestPki, type TestPki } from '../../../infra/tls.ts';
import { LINK_USER } from '../../broker/mod.ts';
import { DownlinkRelay, MqttLink, mqttDownlink } from '../../link/mod.ts';
import { EdgeAgent } from '../agent.ts';
import { TunnelExecutor } from '../tunnels.ts';

export const users = { [LINK_USER]: 'hub-secret', 'E-7': 'e7-secret' };
const TOKEN = 'frp-test-token';

type Keyspace = ReturnType<TestRedis['keyspace']>;

/** The servers started for the file, and the addresses of the two stand-in pages. */
export interface TunnelServers {
  readonly t: TestRedis;
  readonly broker: MosquittoServer;
  readonly frps: FrpsServer;
  readonly sshd: SshdServer;
  /** The fleet CA and frps's certificate: frpc speaks TLS to frps and checks it. */
  readonly pki: TestPki;
  /** The tunnels' remote ports (frps's allowPorts, the gateway's pool): a block of this process's own
   *  (infra/port-block.ts), so that two tunnel test files can run at once. */
  readonly ports: PortBlock;
  readonly camera: string;
  readonly console: string;
}

async function page(text: string, pages: Server[]): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(text));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  pages.push(server);
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Registers the file's servers (before/after): mosquitto, frps, sshd and the two pages. */
export function useTunnelServers(): TunnelServers {
  const t = useRedis();
  const env = { t } as { -readonly [K in keyof TunnelServers]: TunnelServers[K] };
  const pages: Server[] = [];
  before(async () => {
    env.pki = await startTestPki();
    env.ports = await claimPortBlock();
    [env.broker, env.frps, env.sshd] = await Promise.all([
      startMosquitto({ users }),
      startFrps({
        token: TOKEN,
        allowPorts: { low: env.ports.low, high: env.ports.high },
        tcpmux: true,
        tls: env.pki.server,
      }),
      startSshd(),
    ]);
    env.camera = await page('<title>IPC admin</title>camera', pages);
    env.console = await page('<title>litefcccore</title>console', pages);
  });
  after(async () => {
    await Promise.all([
      env.broker?.stop(),
      env.frps?.stop(),
      env.sshd?.stop(),
      ...pages.map((p) => new Promise((r) => p.close(r))),
    ]);
    env.ports?.release();
  });
  return env;
}

/** The hub side: nodes in this process, or (`processes`) two `devicehub node` processes; a link and a relay. */
async function startHub(env: TunnelServers, keyspace: Keyspace, o: { processes?: boolean }) {
  const { t, broker } = env;
  const processes = o.processes ? [t.hubProcess(keyspace, 'n1'), t.hubProcess(keyspace, 'n2')] : [];
  await Promise.all(processes.map((p) => p.ready));
  const node = o.processes ? undefined : await t.hub(keyspace);
  const link = await new MqttLink({
    url: broker.url,
    username: LINK_USER,
    password: users[LINK_USER],
    bus: t.bus(keyspace, t.connect()),
  }).start();
  const relay = await new DownlinkRelay({
    bus: t.bus(keyspace, t.connect()),
    sender: await mqttDownlink({ url: broker.url, username: LINK_USER, password: users[LINK_USER] }),
  }).start();
  return { processes, node, link, relay };
}

/** The gateway with its tunnels configured, served; an operator and a service key; `call` as the operator. */
async function startGateway(env: TunnelServers, keyspace: Keyspace, o: { mux?: boolean }) {
  const { t, frps, sshd, ports } = env;
  const database = await openDatabase();
  const gateway = await createGateway({
    database,
    bus: t.bus(keyspace, t.connect()),
    leaseTtlMs: 1000,
    tunnels: {
      ports: { low: ports.low, high: ports.high },
      serverAddr: frps.address,
      publicHost: '127.0.0.1',
      ...(o.mux ? { mux: { port: frps.tcpmuxPort!, domain: 'tunnels.test' } } : {}),
      ssh: { user: sshd.user, privateKey: readFileSync(sshd.keyFile) },
    },
  });
  const { key } = await createApiKey(database.db, { name: 'op', scope: 'operator' });
  const { key: serviceKey } = await createApiKey(database.db, { name: 'svc', scope: 'service' });
  const served = await serveGateway(gateway);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await gateway.app.request(path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { database, gateway, key, serviceKey, served, call };
}

/** E-7's agent with the tunnel executor (its services: sshd and the two pages). */
async function startEdge(env: TunnelServers) {
  const { broker, sshd } = env;
  const tunnels = new TunnelExecutor({
    edgeId: 'E-7',
    frpc: frpBinary('frpc'),
    token: TOKEN,
    caFile: env.pki.caFile,
    services: { ssh: `127.0.0.1:${sshd.port}`, camera: env.camera, console: env.console },
    dir: mkdtempSync(join(tmpdir(), 'dh-frpc-')),
  });
  const agent = await new EdgeAgent({
    edgeId: 'E-7',
    password: users['E-7'],
    birth: { model: 'RV1126', firmware: '1', registrationCode: 'R-7', buildingId: 'B-7', elevatorNo: 'A' },
    dataDir: mkdtempSync(join(tmpdir(), 'agent-')),
    brokerUrl: broker.url,
    executors: tunnels.executors,
  }).start();
  return { tunnels, agent };
}

/** A browser terminal into tunnel `id` with key `asKey`: what the screen shows so far, and the socket. */
function terminal(url: string, id: string, asKey: string) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/edges/E-7/tunnels/${id}/terminal`, [
    'devicehub.v1',
    `bearer.${asKey}`,
  ]);
  const screen = { text: '' };
  ws.on('message', (data) => {
    screen.text += String(data);
  });
  const status = new Promise<number>((resolve) => {
    ws.once('open', () => resolve(101));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(0));
  });
  return { ws, screen, status };
}

/** The whole path; hub nodes in this process, or (`processes`) two `devicehub node` processes. */
export async function setup(env: TunnelServers, o: { processes?: boolean; mux?: boolean } = {}) {
  const { t } = env;
  const keyspace = t.keyspace();
  const hub = await startHub(env, keyspace, o);
  const gw = await startGateway(env, keyspace, o);
  const { call, key } = gw;
  assert.equal((await call('POST', '/v1/edges', { id: 'E-7' })).status, 201);
  const { tunnels, agent } = await startEdge(env);
  await waitFor(async () => (await t.edgeState(keyspace, 'E-7'))?.online === true, { message: 'E-7 online' });
  const state = async (id: string) => (await call('GET', `/v1/edges/E-7/tunnels/${id}`)).body;
  return {
    call,
    key,
    url: gw.served.url,
    /** A browser terminal into tunnel `id`: what the screen shows so far, and the socket. */
    terminal: (id: string, asKey = key) => terminal(gw.served.url, id, asKey),
    serviceKey: gw.serviceKey,
    database: gw.database,
    keyspace,
    tunnels,
    processes: hub.processes,
    /** The hub node process holding E-7 now. */
    async owner() {
      const node = await t.redis.hget(keyspace.shard(keyspace.shardOf('edge/E-7')).lease, 'node');
      return hub.processes.find((p) => p.nodeId === node);
    },
    state,
    /** Waits until the tunnel is open: frpc started on the edge and registered with frps. */
    async waitOpen(id: string) {
      await waitFor(async () => (await state(id)).state === 'open', {
        timeoutMs: 20_000,
        message: `tunnel ${id} open`,
        explain: async () => `it is ${JSON.stringify(await state(id))}`,
      });
    },
    async [Symbol.asyncDispose]() {
      await gw.served.close();
      await agent.stop();
      await tunnels.stop();
      await gw.gateway.stop();
      await gw.database.close();
      await hub.relay.stop();
      await hub.link.stop();
      await hub.node?.stop();
      await Promise.all(hub.processes.map((p) => p.kill()));
    },
  };
}

/** The remote port the tunnel got for `service`. */
export const portOf = (tunnel: Record<string, unknown>, service: string) =>
  (tunnel.services as { name: string; remotePort: number }[]).find((s) => s.name === service)!.remotePort;
