/**
 * Remote access end to end with the real frp: the gateway's tunnel API → the edge actor → the MQTT
 * downlink → the agent's tunnel executor → frpc → frps, with small real HTTP servers standing in
 * for the camera's admin page and the litefcccore console, and an OpenSSH server the suite starts for
 * the edge's sshd. Open → `ssh … echo` answers and both pages load through frps;
 * close → the remote ports refuse and frpc is gone; two tunnels share frps's one multiplexed port;
 * the dashboard's browser terminal. Expiry and failover: tunnels-expiry.test.ts; the path itself:
 * testdata/tunnel-path.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import mqtt from 'mqtt';
import { chromium } from 'playwright-core';
import { terminalSessions } from '../../gateway/db/schema.ts';
import { connectVia } from '../../gateway/mod.ts';
import { portOpen, TS_NODE_ARGS, waitFor } from '../../infra/mod.ts';
import { portOf, setup, users, useTunnelServers } from './testdata/tunnel-path.ts';

const env = useTunnelServers();
const { t } = env;

describe('tunnels through frp', { timeout: 90_000 }, () => {
  it('opens SSH, the camera and the console through frps, and closes them', async () => {
    await using s = await setup(env);
    const opened = await s.call('POST', '/v1/edges/E-7/tunnels', { services: ['ssh', 'camera', 'console'] });
    assert.equal(opened.status, 202, JSON.stringify(opened.body));
    const id = String(opened.body.id);
    await s.waitOpen(id);
    const [sshPort, cameraPort, consolePort] = ['ssh', 'camera', 'console'].map((n) =>
      portOf(opened.body, n),
    );
    assert.equal(await env.sshd.exec('echo hello from the edge', sshPort), 'hello from the edge\n');

    // SSH in the browser: the gateway bridges a WebSocket to the tunnel's env.sshd.
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

  it("multiplexes: two tunnels at once over frps's one HTTP CONNECT port, no port of their own", async () => {
    await using s = await setup(env, { mux: true });
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
    // Each tunnel's secret comes back once, to its opener; never in the connect hints.
    const secrets = { a: String(a.body.secret), b: String(b.body.secret) };
    assert.match(secrets.a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(secrets.a, secrets.b);
    assert.ok(!JSON.stringify(a.body.services).includes(secrets.a), 'no secret in the hints');
    const got = await s.call('GET', `/v1/edges/E-7/tunnels/${a.body.id}`);
    assert.equal(got.body.secret, undefined, 'GET does not show it');
    const secretOf = (host: string) => (host.includes(String(a.body.id)) ? secrets.a : secrets.b);
    const tunnelOf = (host: string) => (host.includes(String(a.body.id)) ? a.body.id : b.body.id);
    const get = async (host: string) => {
      const socket = await connectVia({ host: '127.0.0.1', port: env.frps.tcpmuxPort! }, `${host}:80`, {
        auth: { tunnelId: String(tunnelOf(host)), secret: secretOf(host) },
      });
      // A read that stalls (frps answers the CONNECT before the tunnel's work connection is
      // there; on a loaded machine that can take long) fails in 10 s instead of hanging the file.
      socket.setTimeout(10_000, () => socket.destroy(new Error(`no page through frps from ${host} in 10 s`)));
      // write, not end: frp closes both directions when the client half-closes.
      socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      let text = '';
      for await (const chunk of socket) text += String(chunk);
      return text;
    };
    // The first page through each tunnel: a stalled read is tried again, up to three times.
    const page = async (host: string) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await get(host);
        } catch (error) {
          if (attempt === 3) throw error;
        }
      }
    };
    assert.match(await page(hostOf(a.body, 'camera').host), /IPC admin/);
    assert.match(await page(hostOf(b.body, 'console').host), /litefcccore/);
    const camera = `${hostOf(a.body, 'camera').host}:80`;
    const via = { host: '127.0.0.1', port: env.frps.tcpmuxPort! };
    await assert.rejects(connectVia(via, camera), /HTTP 404/, 'no secret: refused');
    await assert.rejects(
      connectVia(via, camera, { auth: { tunnelId: String(b.body.id), secret: secrets.b } }),
      /HTTP 404/,
      'another tunnel’s secret: refused',
    );
    const proxyCommand = `env DH_TUNNEL_SECRET=${secrets.a} ${process.execPath} ${TS_NODE_ARGS.join(' ')} ${new URL('../../cli/devicehub.ts', import.meta.url).pathname} connect --via 127.0.0.1:${env.frps.tcpmuxPort} %h:%p`;
    assert.equal(
      await env.sshd.exec('echo through one port', { proxyCommand, host: ssh.host }),
      'through one port\n',
    );
    const info = await env.frps.info();
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
    await using s = await setup(env);
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
      const edge = await mqtt.connectAsync(env.broker.url, {
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
