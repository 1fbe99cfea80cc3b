/**
 * Remote access end to end with the real frp: the gateway's tunnel API → the edge actor → the MQTT
 * downlink → the agent's tunnel executor → frpc → frps, with small real HTTP servers standing in
 * for the camera's admin page and the litefcccore console, and an OpenSSH server the suite starts for
 * the edge's sshd. Open → `ssh … echo` answers and both pages load through frps;
 * close → the remote ports refuse and frpc is gone; a short TTL expires by itself; a crashed frpc
 * comes back.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { terminalSessions } from '../../gateway/db/schema.ts';
import {
  connectVia,
  createApiKey,
  createGateway,
  type Gateway,
  openDatabase,
  serveGateway,
} from '../../gateway/mod.ts';
import {
  type FrpsServer,
  frpBinary,
  type MosquittoServer,
  portOpen,
  type SshdServer,
  startFrps,
  startMosquitto,
  startSshd,
  waitFor,
} from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { LINK_USER } from '../broker/mod.ts';
import { DownlinkRelay, MqttLink, mqttDownlink } from '../link/mod.ts';
import { EdgeAgent } from './agent.ts';
import { TunnelExecutor } from './tunnels.ts';

const t = useRedis();
const users = { [LINK_USER]: 'hub-secret', 'E-7': 'e7-secret' };
const TOKEN = 'frp-test-token';
// Below Linux's ephemeral range (32768-60999): a port there may be any client connection's local
// port at the moment frps wants to bind it (the cluster pass opens many), and the tunnel fails.
const PORTS = { low: 24_000, high: 24_099 };
let broker: MosquittoServer;
let frps: FrpsServer;
let sshd: SshdServer;
const pages: Server[] = [];
let camera = '';
let console_ = '';

async function page(text: string): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(text));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  pages.push(server);
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  [broker, frps, sshd] = await Promise.all([
    startMosquitto({ users }),
    startFrps({ token: TOKEN, allowPorts: PORTS, tcpmux: true }),
    startSshd(),
  ]);
  camera = await page('<title>IPC admin</title>camera');
  console_ = await page('<title>litefcccore</title>console');
});
after(async () => {
  await Promise.all([
    broker?.stop(),
    frps?.stop(),
    sshd?.stop(),
    ...pages.map((p) => new Promise((r) => p.close(r))),
  ]);
});

/** The whole path; hub nodes in this process, or (`processes`) two `devicehub node` processes. */
async function setup(o: { processes?: boolean; mux?: boolean } = {}) {
  const keyspace = t.keyspace();
  const processes = o.processes ? [t.hubProcess(keyspace, 'n1'), t.hubProcess(keyspace, 'n2')] : [];
  await Promise.all(processes.map((p) => p.ready));
  const node = o.processes ? undefined : await t.hub(keyspace);
  const link = await new MqttLink({
    url: broker.url,
    username: LINK_USER,
    password: users[LINK_USER],
    redis: t.connect(),
    keyspace,
  }).start();
  const relay = await new DownlinkRelay({
    redis: t.connect(),
    keyspace,
    sender: await mqttDownlink({ url: broker.url, username: LINK_USER, password: users[LINK_USER] }),
  }).start();
  const database = await openDatabase();
  const gateway: Gateway = await createGateway({
    database,
    redis: t.connect(),
    keyspace,
    leaseTtlMs: 1000,
    tunnels: {
      ports: PORTS,
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
  assert.equal((await call('POST', '/v1/edges', { id: 'E-7' })).status, 201);
  const tunnels = new TunnelExecutor({
    edgeId: 'E-7',
    frpc: frpBinary('frpc'),
    token: TOKEN,
    services: { ssh: `127.0.0.1:${sshd.port}`, camera, console: console_ },
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
  await waitFor(async () => (await t.edgeState(keyspace, 'E-7'))?.online === true, { message: 'E-7 online' });
  /** A browser terminal into tunnel `id`: what the screen shows so far, and the socket. */
  const terminal = (id: string, asKey = key) => {
    const ws = new WebSocket(`${served.url.replace('http', 'ws')}/v1/edges/E-7/tunnels/${id}/terminal`, [
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
  };
  const state = async (id: string) => (await call('GET', `/v1/edges/E-7/tunnels/${id}`)).body;
  return {
    call,
    key,
    url: served.url,
    terminal,
    serviceKey,
    database,
    keyspace,
    tunnels,
    processes,
    /** The hub node process holding E-7 now. */
    async owner() {
      const node = await t.redis.hget(keyspace.shard(keyspace.shardOf('edge/E-7')).lease, 'node');
      return processes.find((p) => p.nodeId === node);
    },
    state,
    /** Waits until the tunnel is open: frpc started on the edge and registered with frps. */
    async waitOpen(id: string) {
      await waitFor(async () => (await state(id)).state === 'open', {
        timeoutMs: 20_000,
        message: `tunnel ${id} open`,
      }).catch(async (error: Error) => {
        throw new Error(`${error.message}; it is ${JSON.stringify(await state(id))}`);
      });
    },
    async [Symbol.asyncDispose]() {
      await served.close();
      await agent.stop();
      await tunnels.stop();
      await gateway.stop();
      await database.close();
      await relay.stop();
      await link.stop();
      await node?.stop();
      await Promise.all(processes.map((p) => p.kill()));
    },
  };
}

const portOf = (tunnel: Record<string, unknown>, service: string) =>
  (tunnel.services as { name: string; remotePort: number }[]).find((s) => s.name === service)!.remotePort;

describe('tunnels through frp', { timeout: 90_000 }, () => {
  it('opens SSH, the camera and the console through frps, and closes them', async () => {
    await using s = await setup();
    const opened = await s.call('POST', '/v1/edges/E-7/tunnels', { services: ['ssh', 'camera', 'console'] });
    assert.equal(opened.status, 202, JSON.stringify(opened.body));
    const id = String(opened.body.id);
    await s.waitOpen(id);
    const [sshPort, cameraPort, consolePort] = ['ssh', 'camera', 'console'].map((n) =>
      portOf(opened.body, n),
    );
    assert.equal(await sshd.exec('echo hello from the edge', sshPort), 'hello from the edge\n');

    // SSH in the browser: the gateway bridges a WebSocket to the tunnel's sshd.
    assert.equal(await s.terminal(id, s.serviceKey).status, 403, 'a service key may not');
    const term = s.terminal(id);
    assert.equal(await term.status, 101);
    term.ws.send(JSON.stringify({ type: 'resize', cols: 100, rows: 30 }));
    term.ws.send('echo "hel""lo" $COLUMNS\n');
    await waitFor(() => /hello 100/.test(term.screen.text), {
      message: 'the shell to answer in the browser terminal',
    }).catch((e: Error) => {
      throw new Error(`${e.message}; the screen: ${JSON.stringify(term.screen.text.slice(-400))}`);
    });
    term.ws.close();
    await waitFor(async () => (await s.database.db.select().from(terminalSessions))[0]?.endedAt != null, {
      message: 'the session recorded as ended',
    });
    const [session] = await s.database.db.select().from(terminalSessions);
    assert.equal(session!.actor, 'key:op');
    assert.equal(session!.tunnelId, id);
    assert.ok(
      session!.bytesIn > 10 && session!.bytesOut > 10,
      `bytes in ${session!.bytesIn}, out ${session!.bytesOut}`,
    );
    assert.match(await (await fetch(`http://127.0.0.1:${cameraPort}/`)).text(), /IPC admin/);
    assert.match(await (await fetch(`http://127.0.0.1:${consolePort}/`)).text(), /litefcccore/);
    assert.deepEqual(s.tunnels.openTunnels, [id]);

    assert.equal((await s.call('DELETE', `/v1/edges/E-7/tunnels/${id}`)).status, 202);
    const closed = async (port: number | undefined) => !(await portOpen(port!));
    await waitFor(
      async () => (await closed(sshPort)) && (await closed(cameraPort)) && (await closed(consolePort)),
      {
        timeoutMs: 15_000,
        message: 'the remote ports to refuse connections',
      },
    );
    assert.deepEqual(s.tunnels.openTunnels, [], 'frpc has exited');
    assert.equal((await s.state(id)).state, 'closed');
    assert.equal(await s.terminal(id).status, 409, 'no terminal into a closed tunnel');
  });

  it('expires by itself, and brings a crashed frpc back until then', async () => {
    await using s = await setup();
    const opened = await s.call('POST', '/v1/edges/E-7/tunnels', { services: ['console'], ttlSeconds: 6 });
    const id = String(opened.body.id);
    const port = portOf(opened.body, 'console');
    await s.waitOpen(id);
    const pid = s.tunnels.pid(id)!;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => s.tunnels.pid(id) !== undefined && s.tunnels.pid(id) !== pid, {
      message: 'frpc started again',
    });
    await waitFor(
      async () =>
        (
          await fetch(`http://127.0.0.1:${port}/`).then(
            (r) => r.text(),
            () => '',
          )
        ).includes('litefcccore'),
      {
        message: 'the console reachable again',
      },
    );
    await waitFor(async () => (await s.state(id)).state === 'expired', {
      timeoutMs: 15_000,
      message: 'the tunnel to expire',
    });
    await waitFor(async () => !(await portOpen(port)), { timeoutMs: 10_000, message: 'the port to refuse' });
    assert.deepEqual(s.tunnels.openTunnels, []);
  });

  it('closes by the timer even when the hub node that opened it was killed', async () => {
    await using s = await setup({ processes: true });
    const opened = await s.call('POST', '/v1/edges/E-7/tunnels', { services: ['ssh'], ttlSeconds: 8 });
    const id = String(opened.body.id);
    const port = portOf(opened.body, 'ssh');
    await s.waitOpen(id);
    const owner = await s.owner();
    assert.ok(owner, 'a hub node process holds E-7');
    await owner.kill('SIGKILL');
    await waitFor(async () => (await s.owner()) !== undefined && (await s.owner()) !== owner, {
      message: 'the other node to take E-7 over',
    });
    await waitFor(async () => (await s.state(id)).state === 'expired', {
      timeoutMs: 20_000,
      message: 'the durable timer to expire the tunnel on the surviving node',
    });
    await waitFor(async () => !(await portOpen(port)), { timeoutMs: 10_000, message: 'the port to refuse' });
  });

  it("multiplexes: two tunnels at once over frps's one HTTP CONNECT port, no port of their own", async () => {
    await using s = await setup({ mux: true });
    const [a, b] = await Promise.all([
      s.call('POST', '/v1/edges/E-7/tunnels', { services: ['ssh', 'camera'] }),
      s.call('POST', '/v1/edges/E-7/tunnels', { services: ['console'] }),
    ]);
    assert.deepEqual([a.status, b.status], [202, 202]);
    assert.equal(await t.redis.hlen(s.keyspace.ports), 0, 'no remote port taken from the pool');
    for (const id of [a.body.id, b.body.id]) await s.waitOpen(String(id));
    const hostOf = (tunnel: Record<string, unknown>, name: string) =>
      (tunnel.services as { name: string; host: string; remotePort: number | null; connect: string }[]).find(
        (x) => x.name === name,
      )!;
    const ssh = hostOf(a.body, 'ssh');
    assert.equal(ssh.remotePort, null, 'no public port of its own');
    assert.match(
      ssh.connect,
      /^ssh -o ProxyCommand='devicehub connect --via 127\.0\.0\.1:\d+ %h:%p' root@ssh-t-/,
    );
    const get = async (host: string) => {
      const socket = await connectVia({ host: '127.0.0.1', port: frps.tcpmuxPort! }, `${host}:80`);
      // write, not end: frp closes both directions when the client half-closes.
      socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      let text = '';
      for await (const chunk of socket) text += String(chunk);
      return text;
    };
    assert.match(await get(hostOf(a.body, 'camera').host), /IPC admin/);
    assert.match(await get(hostOf(b.body, 'console').host), /litefcccore/);
    const proxyCommand = `${process.execPath} --import ${import.meta.resolve('tsx')} ${new URL('../../cli/devicehub.ts', import.meta.url).pathname} connect --via 127.0.0.1:${frps.tcpmuxPort} %h:%p`;
    assert.equal(
      await sshd.exec('echo through one port', { proxyCommand, host: ssh.host }),
      'through one port\n',
    );
    const info = await frps.info();
    assert.equal(info.proxyTypeCount.tcpmux, 3, 'three services, all on the one tcpmux port');

    assert.equal((await s.call('DELETE', `/v1/edges/E-7/tunnels/${a.body.id}`)).status, 202);
    await waitFor(
      async () =>
        (await get(hostOf(a.body, 'camera').host).catch((e: Error) => e.message)).includes('refused'),
      {
        timeoutMs: 15_000,
        message: 'the closed tunnel’s name to be refused',
      },
    );
    assert.match(await get(hostOf(b.body, 'console').host), /litefcccore/, 'the other tunnel is still open');
  });

  it('the dashboard: an operator opens a remote connection and types into the browser terminal', async () => {
    await using s = await setup();
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      // E-7 sends one message the hub cannot take: a status whose sequence number is a uint64.
      const edge = await mqtt.connectAsync(broker.url, {
        username: 'E-7',
        password: users['E-7'],
        clientId: 'E-7-bad-firmware',
        protocolVersion: 5,
      });
      const poison = Buffer.from([0x12, 0x82, 0xa1, 0x71, 0xcf, 255, 255, 255, 255, 255, 255, 255, 255]);
      await edge.publishAsync('dh/v1/E-7/up/status', Buffer.concat([poison, Buffer.from([0xa1, 0x74, 1])]), {
        qos: 1,
      });
      await edge.endAsync();
      await waitFor(async () => (await s.call('GET', '/v1/dead-letters?edge=E-7')).body.count === 1, {
        message: "E-7's dead letter counted",
      });
      await page.goto(`${s.url}/ui/#key=${s.key}`);
      await page.getByRole('link', { name: 'E-7' }).first().click();
      // The edge's dead letters with their count and reasons, from GET /v1/dead-letters.
      assert.equal(await page.locator('#dead-letters').textContent(), 'Dead letters: 1');
      assert.match(
        (await page.locator('#dead-letters + table').textContent()) ?? '',
        /INVALID_FIELD.*q \(sequence\).*dh\/v1\/E-7\/up\/status/,
      );
      await page.getByRole('button', { name: 'Open remote connection' }).click();
      await page.locator('#terminal-open:not([disabled])').waitFor({ timeout: 30_000 });
      await page.locator('#terminal-open').click();
      await page.locator('.xterm').waitFor();
      const screen = () =>
        page.evaluate(() => {
          const t = (
            globalThis as unknown as {
              devicehubTerminal: {
                buffer: {
                  active: {
                    length: number;
                    getLine(i: number): { translateToString(trim: boolean): string } | undefined;
                  };
                };
              };
            }
          ).devicehubTerminal;
          const lines: string[] = [];
          for (let i = 0; i < t.buffer.active.length; i++)
            lines.push(t.buffer.active.getLine(i)?.translateToString(true) ?? '');
          return lines;
        });
      await waitFor(async () => (await screen()).some((l) => l.includes('#') || l.includes('$')), {
        message: 'a shell prompt in the page',
      });
      await page.locator('.xterm').click();
      await page.keyboard.type('echo hello');
      await page.keyboard.press('Enter');
      await waitFor(async () => (await screen()).some((l) => l.trim() === 'hello'), {
        message: '"hello" on the page',
      });
      const dir = process.env.DH_TEST_ARTIFACTS ?? join(process.cwd(), '.devicehub', 'test-artifacts');
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, 'dashboard-terminal.png'), fullPage: true });
    } catch (error) {
      const dir = process.env.DH_TEST_ARTIFACTS ?? join(process.cwd(), '.devicehub', 'test-artifacts');
      mkdirSync(dir, { recursive: true });
      await (await browser.contexts()[0]?.pages()[0])?.screenshot({
        path: join(dir, 'dashboard-failed.png'),
        fullPage: true,
      });
      throw error;
    } finally {
      await browser.close();
    }
  });
});
