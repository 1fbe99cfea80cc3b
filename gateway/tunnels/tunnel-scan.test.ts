/**
 * What a stranger finds on the tunnel server (issue 14, item 4), with the real frps and frpc:
 * frps speaks TLS only (a plain frpc is refused, and an frpc trusting another CA refuses frps);
 * while a multiplexed tunnel is open, a scan of every port in the tunnel range and of the HTTP
 * CONNECT port — asking for every service name the tunnel could have, with no secret, the wrong
 * secret or another tunnel's — gets no SSH banner and no page from the edge; the holder of the
 * tunnel's secret gets through.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TunnelExecutor } from '../../edge/agent/mod.ts';
import { type FrpsServer, frpBinary, type SshdServer, startFrps, startSshd } from '../../infra/mod.ts';
import { claimPortBlock, type PortBlock } from '../../infra/port-block.ts';
import { startTestPki, type TestPki } from '../../infra/tls.ts';
import type { TunnelSettings } from '../deps.ts';
import { connectVia } from './connect-via.ts';
import { tunnelProxyAuth, tunnelSecret } from './secret.ts';

const TOKEN = 'scan-test-token';
// 40 tunnel ports (the scan tries each) of a block this process holds alone (infra/port-block.ts).
let PORTS: { low: number; high: number };
let block: PortBlock;
const DOMAIN = 'tunnels.scan';

let pki: TestPki;
let frps: FrpsServer;
let sshd: SshdServer;
let camera: Server;
before(async () => {
  pki = await startTestPki();
  block = await claimPortBlock();
  PORTS = { low: block.low, high: block.low + 39 };
  [frps, sshd] = await Promise.all([
    startFrps({ token: TOKEN, allowPorts: PORTS, tcpmux: true, tls: pki.server }),
    startSshd(),
  ]);
  camera = createServer((_req, res) => res.writeHead(200).end('<title>IPC admin</title>'));
  await new Promise<void>((resolve) => camera.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  await Promise.all([frps?.stop(), sshd?.stop(), new Promise((r) => camera?.close(r))]);
  block?.release();
});

const executor = (caFile: string) =>
  new TunnelExecutor({
    edgeId: 'E-SCAN',
    frpc: frpBinary('frpc'),
    token: TOKEN,
    caFile,
    serverAddr: frps.address,
    services: {
      ssh: `127.0.0.1:${sshd.port}`,
      camera: `127.0.0.1:${(camera.address() as AddressInfo).port}`,
    },
    dir: mkdtempSync(join(tmpdir(), 'dh-frpc-scan-')),
  });

/** Everything a TCP connection gets back after sending `request`, until the server closes it. */
function exchange(port: number, request: string): Promise<{ refused: boolean; text: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      // An SSH banner or a page is what we look for; once either shows, the scan found something.
      if (/SSH-2\.0|IPC admin/.test(text)) socket.destroy();
    });
    socket.once('connect', () => socket.write(request));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      resolve({ refused: error.code === 'ECONNREFUSED', text }),
    );
    socket.once('close', () => resolve({ refused: false, text }));
  });
}

const connectRequest = (host: string, auth?: string) =>
  `CONNECT ${host} HTTP/1.1\r\nHost: ${host}\r\n${auth === undefined ? '' : `Proxy-Authorization: ${auth}\r\n`}\r\n`;

describe('a scan of the tunnel server', { timeout: 90_000 }, () => {
  it('finds nothing usable without the tunnel’s secret; its holder gets through', async () => {
    const settings: TunnelSettings = {
      ports: PORTS,
      defaultTtlSeconds: 600,
      maxTtlSeconds: 600,
      publicHost: '127.0.0.1',
      mux: { port: frps.tcpmuxPort!, domain: DOMAIN },
    };
    const tunnelId = 't-7c1d3f0e-0000-4000-8000-00000000scan';
    const other = 't-7c1d3f0e-0000-4000-8000-0000000other';
    const secret = tunnelSecret(settings, tunnelId)!;
    const host = (service: string) => `${service}-${tunnelId}.${DOMAIN}`;
    await using tunnels = executor(pki.caFile);
    await tunnels.open(
      {
        tunnelId,
        services: ['ssh', 'camera'].map((name) => ({ name, remotePort: null, host: host(name) })),
        expiresAt: Date.now() + 600_000,
        secret,
      },
      AbortSignal.timeout(30_000),
    );

    // Every port of the tunnel range: multiplexed tunnels hold none, so nothing answers there.
    for (let port = PORTS.low; port <= PORTS.high; port++) {
      const found = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.ok(found.refused, `port ${port} answered: ${JSON.stringify(found.text.slice(0, 80))}`);
    }

    // The CONNECT port, for every name a tunnel's service could have, with every wrong credential.
    const names = ['ssh', 'camera', 'console'].flatMap((s) => [
      `${host(s)}:22`,
      `${host(s)}:80`,
      `${s}.${DOMAIN}:22`,
      `${s}-${other}.${DOMAIN}:22`,
    ]);
    const wrong = [
      undefined,
      tunnelProxyAuth(tunnelId, 'x'.repeat(43)),
      tunnelProxyAuth(tunnelId, `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`),
      tunnelProxyAuth(other, tunnelSecret(settings, other)!),
      tunnelProxyAuth('', secret),
    ];
    let probes = 0;
    for (const name of names)
      for (const auth of wrong) {
        const found = await exchange(frps.tcpmuxPort!, connectRequest(name, auth));
        probes++;
        assert.doesNotMatch(found.text, /SSH-2\.0|IPC admin/, `CONNECT ${name} found the edge`);
        assert.match(found.text, /HTTP\/1\.1 40[47]/, `CONNECT ${name}: refused with 404 or 407`);
      }
    assert.equal(probes, names.length * wrong.length);

    // The holder of the secret: the edge's sshd answers, and the camera's page loads.
    const ssh = await exchange(
      frps.tcpmuxPort!,
      connectRequest(`${host('ssh')}:22`, tunnelProxyAuth(tunnelId, secret)),
    );
    assert.match(ssh.text, /^HTTP\/1\.1 200[\s\S]*SSH-2\.0-/);
    const socket = await connectVia({ host: '127.0.0.1', port: frps.tcpmuxPort! }, `${host('camera')}:80`, {
      auth: { tunnelId, secret },
    });
    socket.write(`GET / HTTP/1.1\r\nHost: camera\r\nConnection: close\r\n\r\n`);
    let page = '';
    for await (const chunk of socket) page += String(chunk);
    assert.match(page, /IPC admin/);
  });

  it('refuses a plain frpc, and an frpc refuses a server its CA did not sign', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dh-frpc-plain-'));
    writeFileSync(
      join(dir, 'plain.toml'),
      [
        'serverAddr = "127.0.0.1"',
        `serverPort = ${frps.bindPort}`,
        'auth.method = "token"',
        `auth.token = "${TOKEN}"`,
        'loginFailExit = true',
        'transport.tls.enable = false',
        '',
        '[[proxies]]',
        'name = "plain"',
        'type = "tcp"',
        'localPort = 22',
        `remotePort = ${PORTS.low}`,
      ].join('\n'),
    );
    const plain = spawn(frpBinary('frpc'), ['-c', join(dir, 'plain.toml')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    plain.stdout.on('data', (chunk: Buffer) => (output += chunk));
    plain.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => plain.once('exit', resolve));
    assert.notEqual(code, 0, `a plain frpc must not log in: ${output}`);
    assert.match(output, /login to the server failed/);

    const stranger = await startTestPki();
    await using tunnels = executor(stranger.caFile);
    await assert.rejects(
      tunnels.open(
        {
          tunnelId: 't-untrusted',
          services: [{ name: 'ssh', remotePort: PORTS.low }],
          expiresAt: Date.now() + 600_000,
        },
        AbortSignal.timeout(30_000),
      ),
      (error: Error) =>
        /login to the tunnel server failed/.test(error.message) && error.message.includes(stranger.caFile),
    );
  });
});
