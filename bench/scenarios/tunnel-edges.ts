/**
 * The edges' side of the `tunnel` scenario, in the benchmark's process: one HTTP server answering
 * for every edge's services, and the edges' agents — the agent's own tunnel executor (one real frpc
 * per open tunnel) taking the tunnel commands from the MQTT downlink and answering their results.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { TunnelExecutor } from '../../edge/agent/mod.ts';
import { encodeCompact, uplinkTopic } from '../../edge/mod.ts';
import { frpBinary } from '../../infra/mod.ts';
import { HUB_PASSWORD, HUB_USER } from '../fleet.ts';

/** The edges' services: one small HTTP server answers for all of them. */
export async function startEdgeService() {
  const service = createServer((_req, res) => res.writeHead(200).end('edge service'));
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  return {
    target: `127.0.0.1:${(service.address() as AddressInfo).port}`,
    [Symbol.asyncDispose]: () => new Promise<void>((r) => service.close(() => r())),
  };
}

/** The edges' agents: the real tunnel executor (one frpc per open tunnel), commands from MQTT. */
export async function startEdgeAgents(mqttUrl: string, target: string, token: string) {
  const executor = new TunnelExecutor({
    edgeId: 'sim',
    frpc: frpBinary('frpc'),
    token,
    services: { ssh: target, camera: target, console: target },
    dir: mkdtempSync(join(tmpdir(), 'dh-bench-frpc-')),
  });
  const agents = await mqtt.connectAsync(mqttUrl, {
    username: HUB_USER,
    password: HUB_PASSWORD,
    protocolVersion: 5,
  });
  agents.on('message', (topic, payload) => {
    const edgeId = topic.split('/')[2]!;
    const command = JSON.parse(payload.toString()) as {
      id: string;
      type: string;
      args: Record<string, unknown>;
      deadline: number;
    };
    const run = executor.executors[command.type];
    if (run === undefined) return;
    void run(command.args, AbortSignal.timeout(Math.max(1, command.deadline - Date.now())))
      .then(
        (result) => ({ ok: true, result }),
        (error: Error) => ({ ok: false, error: error.message }),
      )
      .then((outcome) => {
        const message = encodeCompact({ kind: 'result', seq: 0, ts: Date.now(), id: command.id, ...outcome });
        return agents.publishAsync(uplinkTopic(edgeId, 'result'), Buffer.from(message), { qos: 1 });
      });
  });
  await agents.subscribeAsync('dh/v1/+/down', { qos: 1 });
  return {
    executor,
    async [Symbol.asyncDispose]() {
      await agents.endAsync();
      await executor[Symbol.asyncDispose]();
    },
  };
}
