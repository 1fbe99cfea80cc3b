/**
 * The agent's downlink subscription against a real mosquitto: while the broker's dynamic security
 * refuses it (the edge's role lacks its subscribe ACL), the agent logs each refusal, tries again
 * with backoff and reports it in its health; once the ACL is back it subscribes and hears commands.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { type Line, recordingLogger } from '../../actors/testdata/recording-logger.ts';
import { type MosquittoServer, startMosquitto, waitFor } from '../../infra/mod.ts';
import { DynsecClient, edgeRoleName, LINK_USER } from '../broker/mod.ts';
import { decodeCompact, downlinkTopic, uplinkTopic } from '../protocol/mod.ts';
import { EdgeAgent } from './agent.ts';

const EDGE = 'E-9';
const users = { [LINK_USER]: 'hub-secret', [EDGE]: 'e9-secret' };
let broker: MosquittoServer;
before(async () => {
  broker = await startMosquitto({ users });
});
after(async () => {
  await broker?.stop();
});

/** GET /v1/config/edge/{id}: names the broker and a 1 s health period (the gateway's contract). */
async function configServer(brokerUrl: string) {
  const body = JSON.stringify({
    version: 1,
    broker: { transport: 'mqtt', url: brokerUrl },
    healthSeconds: 1,
  });
  const server = createServer((req, res) => {
    if (req.headers['if-none-match'] === '"1"') return void res.writeHead(304).end();
    res.writeHead(200, { 'content-type': 'application/json', etag: '"1"' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('edge agent downlink', { timeout: 60_000 }, () => {
  it('logs a refused downlink subscription, retries it, reports it in its health, and hears commands once allowed', async () => {
    const acl = { rolename: edgeRoleName(EDGE), acltype: 'subscribeLiteral', topic: downlinkTopic(EDGE) };
    await using admin = new DynsecClient({ url: broker.url, ...broker.admin });
    await waitFor(() => admin.connected, { message: 'the broker admin connection' });
    const [removed] = await admin.run([{ command: 'removeRoleACL', ...acl }]);
    assert.equal(removed?.error, undefined, 'the subscribe ACL was removed');

    // The hub's side: reads the agent's health reports, sends it a command.
    const hub = await mqtt.connectAsync(broker.url, {
      username: LINK_USER,
      password: users[LINK_USER],
      protocolVersion: 5,
    });
    const reports: Record<string, unknown>[] = [];
    const results: unknown[] = [];
    hub.on('message', (topic, payload) => {
      if (topic !== uplinkTopic(EDGE, 'health') && topic !== uplinkTopic(EDGE, 'result')) return;
      for (const m of decodeCompact(payload)) {
        if (topic === uplinkTopic(EDGE, 'health'))
          reports.push((m.payload as { data: Record<string, unknown> }).data);
        if (topic === uplinkTopic(EDGE, 'result')) results.push(m.payload);
      }
    });
    // All of the edge's uplink, as a link subscribes: a QoS 1 message nobody subscribed to (its
    // birth) is refused with 0x10 and would hold the agent's queue (unheard.ts).
    await hub.subscribeAsync(`dh/v1/${EDGE}/up/#`, { qos: 1 });

    const config = await configServer(broker.url);
    const lines: Line[] = [];
    const heard: unknown[] = [];
    await using agent = await new EdgeAgent({
      edgeId: EDGE,
      password: users[EDGE],
      birth: {
        model: 'RV1126-ELEV',
        firmware: '3.2.14',
        registrationCode: 'R-9',
        buildingId: 'B-9',
        elevatorNo: 'A',
      },
      dataDir: mkdtempSync(join(tmpdir(), 'dh-agent-downlink-')),
      configUrl: config.url,
      longPollSeconds: 0,
      downlinkRetry: { firstMs: 100, maxMs: 400 },
      executors: {
        ping: async (args) => {
          heard.push(args);
          return 'pong';
        },
      },
      logger: recordingLogger(lines),
    }).start();

    const refusals = () => lines.filter((l) => l.msg?.startsWith('downlink subscription refused'));
    await waitFor(() => refusals().length >= 3, { message: 'three logged refusals (it keeps trying)' });
    const first = refusals()[0]!;
    assert.equal(first.level, 'warn');
    assert.equal(first.topic, downlinkTopic(EDGE));
    assert.equal((first.err as { code?: string }).code, 'DOWNLINK_REFUSED');
    assert.deepEqual(
      refusals()
        .slice(0, 3)
        .map((l) => l.retryInMs),
      [100, 200, 400],
      'the backoff doubles',
    );
    await waitFor(() => refusals().some((l) => l.retryInMs === 400 && l.failures === 4), {
      message: 'the backoff capped at 400 ms',
    });
    assert.equal(agent.stats.downlink?.subscribed, false);
    const refusedReport = await waitFor(
      () => reports.find((h) => h.downlinkSubscribed === false && Number(h.downlinkFailures) >= 1),
      { message: 'a health report saying the downlink is refused' },
    );
    assert.equal(typeof refusedReport.uptimeSeconds, 'number', 'the rest of the health is there');

    const [added] = await admin.run([{ command: 'addRoleACL', ...acl, allow: true }]);
    assert.equal(added?.error, undefined, 'the subscribe ACL is back');
    await waitFor(() => agent.stats.downlink?.subscribed === true, { message: 'the downlink subscribed' });
    assert.ok(lines.some((l) => l.msg === 'downlink subscribed; commands arrive again'));
    await waitFor(() => reports.some((h) => h.downlinkSubscribed === true), {
      message: 'a health report saying the downlink is subscribed',
    });

    const command = { id: 'c-1', type: 'ping', args: { n: 1 }, deadline: Date.now() + 30_000, epoch: 1 };
    await hub.publishAsync(downlinkTopic(EDGE), JSON.stringify(command), { qos: 1 });
    await waitFor(() => results.length > 0, { message: 'the command result' });
    assert.deepEqual(heard, [{ n: 1 }], 'the agent heard the command');
    assert.deepEqual(results[0], { id: 'c-1', ok: true, result: 'pong' });

    await hub.endAsync();
    await config.close();
  });
});
