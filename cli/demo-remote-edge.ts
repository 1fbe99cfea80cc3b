/**
 * The demo's remote-access edge, `DEMO-SSH`: a real edge agent whose tunnel executor starts a real
 * frpc against a local frps, with a local OpenSSH server standing in for the box's sshd and two
 * small pages for its camera and console — so a newcomer can open a terminal into an "edge" from
 * the dashboard. Needs frp (built by provisioning) and sshd; without them the demo runs on.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../actors/mod.ts';
import { EdgeAgent, TunnelExecutor } from '../edge/agent/mod.ts';
import { frpBinary, startFrps, startSshd } from '../infra/mod.ts';

export const REMOTE_EDGE = 'DEMO-SSH';

export interface RemoteEdge {
  /** What the gateway needs to open tunnels to it and a terminal into it. */
  readonly tunnels: { serverAddr: string; publicHost: string; ssh: { user: string; privateKey: Buffer } };
  stop(): Promise<void>;
}

async function page(title: string): Promise<{ server: Server; target: string }> {
  const server = createServer((_req, res) =>
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(
        `<!doctype html><title>${title}</title><h1>${title}</h1><p>Served on the edge, reached through its tunnel.</p>`,
      ),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, target: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export async function startRemoteEdge(o: {
  brokerUrl: string;
  password: string;
  logger?: Logger;
}): Promise<RemoteEdge> {
  const token = `demo-${Math.random().toString(36).slice(2)}`;
  const frpc = frpBinary('frpc');
  const [frps, sshd, camera, consolePage] = await Promise.all([
    startFrps({ token, allowPorts: { low: 20_000, high: 20_999 } }),
    startSshd(),
    page('IP camera admin (DEMO-SSH)'),
    page('litefcccore console (DEMO-SSH)'),
  ]);
  const executor = new TunnelExecutor({
    edgeId: REMOTE_EDGE,
    frpc,
    token,
    services: { ssh: `127.0.0.1:${sshd.port}`, camera: camera.target, console: consolePage.target },
    dir: mkdtempSync(join(tmpdir(), 'dh-demo-frpc-')),
    logger: o.logger,
  });
  const agent = await new EdgeAgent({
    edgeId: REMOTE_EDGE,
    password: o.password,
    birth: {
      model: 'RV1126',
      firmware: 'demo',
      registrationCode: 'DEMO',
      buildingId: 'demo',
      elevatorNo: 'A',
    },
    dataDir: mkdtempSync(join(tmpdir(), 'dh-demo-agent-')),
    brokerUrl: o.brokerUrl,
    executors: executor.executors,
    logger: o.logger,
  }).start();
  return {
    tunnels: {
      serverAddr: frps.address,
      publicHost: '127.0.0.1',
      ssh: { user: sshd.user, privateKey: readFileSync(sshd.keyFile) },
    },
    async stop() {
      await agent.stop();
      await executor.stop();
      await Promise.all([frps.stop(), sshd.stop()]);
      camera.server.close();
      consolePage.server.close();
    },
  };
}
