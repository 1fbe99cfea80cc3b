/**
 * The demo's remote-access edge, `DEMO-SSH`: a real edge agent — `devicehub agent` in a process of
 * its own, as on a box, from a configuration file — whose tunnel executor starts a real frpc
 * against a local frps, with a local OpenSSH server standing in for the box's sshd and two small
 * pages for its camera and console — so a newcomer can open a terminal into an "edge" from the
 * dashboard. Needs frp (built by provisioning) and sshd; without them the demo runs on.
 * Over TLS with the demo PKI: the agent logs in to mosquitto's mutual-TLS listener with a
 * certificate of its own (CN = DEMO-SSH, in ./.devicehub/pki/edges/), and frps takes frpc over
 * TLS only, frpc checking frps's certificate against the fleet CA (the agent's caFile).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frpBinary, spawnDevicehub, startFrps, startSshd } from '../infra/mod.ts';
import type { DemoPki } from './demo-pki.ts';

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
  /** mosquitto's mutual-TLS listener. */
  brokerUrl: string;
  password: string;
  pki: DemoPki;
  /** Where the agent process's log goes (JSON lines, appended). */
  logFile?: string;
}): Promise<RemoteEdge> {
  const token = `demo-${Math.random().toString(36).slice(2)}`;
  const frpc = frpBinary('frpc');
  const { pki } = o;
  const [frps, sshd, camera, consolePage, cert] = await Promise.all([
    startFrps({
      token,
      allowPorts: { low: 20_000, high: 20_999 },
      tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile },
    }),
    startSshd(),
    page('IP camera admin (DEMO-SSH)'),
    page('litefcccore console (DEMO-SSH)'),
    pki.issueEdge(REMOTE_EDGE),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'dh-demo-agent-'));
  const config = join(dir, 'agent.json');
  const agentConfig = {
    edgeId: REMOTE_EDGE,
    password: o.password,
    birth: {
      model: 'RV1126',
      firmware: 'demo',
      registrationCode: 'DEMO',
      buildingId: 'demo',
      elevatorNo: 'A',
    },
    dataDir: join(dir, 'data'),
    brokerUrl: o.brokerUrl,
    caFile: pki.caFile,
    certFile: cert.certFile,
    keyFile: cert.keyFile,
    tunnels: {
      frpc,
      token,
      services: { ssh: `127.0.0.1:${sshd.port}`, camera: camera.target, console: consolePage.target },
    },
  };
  writeFileSync(config, JSON.stringify(agentConfig, null, 2), { mode: 0o600 });
  const agent = spawnDevicehub(['agent', '--config', config], {
    name: `agent ${REMOTE_EDGE}`,
    env: { DH_LOG_LEVEL: process.env.DH_LOG_LEVEL ?? 'info' },
    logFile: o.logFile,
  });
  const stopServers = async () => {
    await Promise.all([frps.stop(), sshd.stop()]);
    camera.server.close();
    consolePage.server.close();
  };
  try {
    await agent.ready;
  } catch (error) {
    await agent.kill();
    await stopServers();
    throw error;
  }
  return {
    tunnels: {
      serverAddr: frps.address,
      publicHost: '127.0.0.1',
      ssh: { user: sshd.user, privateKey: readFileSync(sshd.keyFile) },
    },
    async stop() {
      await agent.stop(); // SIGTERM: the agent stops its frpc and its broker connection, bounded
      await stopServers();
    },
  };
}
