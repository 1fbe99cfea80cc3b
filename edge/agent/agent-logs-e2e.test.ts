/**
 * Edge logs end to end over a real mosquitto: the agent, configured by the configuration contract
 * (a small HTTP server, testdata/agent-hub.ts), tails a file through a rename + create and a
 * copytruncate rotation and its lines reach the hub's MQTT link's log sink in order, with the
 * edge's id from the topic and the file's source; and the forwarder sends alarms and telemetry
 * before log batches queued earlier (priority).
 * Redis Cluster pass: once
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import mqtt from 'mqtt';
import { waitFor } from '../../infra/mod.ts';
import type { LogRecord } from '../../logs/mod.ts';
import { LINK_USER } from '../broker/mod.ts';
import { MqttLink } from '../link/mod.ts';
import { encodeLogBatch } from '../protocol/mod.ts';
import { Forwarder } from './forwarder.ts';
import { silentLogger } from './logger.ts';
import { agentE5, configServer, useAgentHub, users } from './testdata/agent-hub.ts';

const env = useAgentHub();
const { t } = env;

describe('edge logs end to end', { timeout: 60_000 }, () => {
  it('ships a tailed file through both rotations to the hub’s log sink with the edge’s id', async () => {
    const keyspace = t.keyspace();
    const records: LogRecord[] = [];
    await using _link = await new MqttLink({
      url: env.brokerA.url,
      username: LINK_USER,
      password: users[LINK_USER],
      bus: t.bus(keyspace, t.connect()),
      clientId: `logs-${keyspace.prefix}`,
      group: keyspace.prefix,
      logs: { push: (r) => records.push(r) },
    }).start();
    const file = join(mkdtempSync(join(tmpdir(), 'elenet-')), 'elenet.log');
    const config = await configServer({
      version: 1,
      broker: { transport: 'mqtt', url: env.brokerA.url },
      logs: { level: 'info', files: [{ path: file, source: 'elenet' }], linesPerSecond: 100 },
    });
    await using agent = await agentE5({ configUrl: config.url, pollMs: 100, logTickMs: 50 }).start();
    const elenet = () => records.filter((r) => r.service === 'elenet').map((r) => r.msg);
    const ticked = async () => {
      const at = agent.stats.logs.ticks;
      await waitFor(() => agent.stats.logs.ticks >= at + 2, { message: 'the agent to read its files' });
    };
    await waitFor(() => agent.stats.logs.files === 1, { message: 'the configuration’s file' });
    await ticked(); // the file does not exist yet: once it does, all of it is new
    writeFileSync(file, 'one\n[DEBUG] not shipped at info\ntwo');
    await ticked();
    appendFileSync(file, ' (finished)\n');
    await waitFor(() => elenet().length === 2, { message: 'the first lines' });
    // logrotate's default: renamed, the writer finishes its line in the old file, a new file.
    renameSync(file, `${file}.1`);
    appendFileSync(`${file}.1`, 'three, last of the old file\n');
    writeFileSync(file, 'four\n');
    await waitFor(() => elenet().length === 4, { message: 'the lines across rename + create' });
    // copytruncate: copied away, then cut to 0 and written again.
    appendFileSync(file, 'five\n');
    await waitFor(() => elenet().length === 5, { message: 'five before the truncation' });
    truncateSync(file, 0);
    appendFileSync(file, 'six\n');
    await waitFor(() => elenet().length === 6, { message: 'six after copytruncate' });
    assert.deepEqual(elenet(), [
      'one',
      'two (finished)',
      'three, last of the old file',
      'four',
      'five',
      'six',
    ]);
    assert.ok(records.every((r) => r.edgeId === 'E-5'));
    assert.equal(agent.stats.logs.filtered, 1, 'the debug line');
    assert.equal(agent.stats.logs.shipped, records.length);
    await config.close();
  });

  it('sends alarms and telemetry before the log batches queued before them', async () => {
    const seen: string[] = [];
    const watcher = await mqtt.connectAsync(env.brokerB.url, {
      username: LINK_USER,
      password: users[LINK_USER],
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    watcher.on('message', (topic) => seen.push(topic.split('/').pop()!));
    await watcher.subscribeAsync('dh/v1/E-5/up/#', { qos: 1 });
    const stop = new AbortController();
    const forwarder = new Forwarder({
      edgeId: 'E-5',
      password: users['E-5'],
      dataDir: mkdtempSync(join(tmpdir(), 'fwd-')),
      onCommand: () => {},
      log: silentLogger,
      signal: stop.signal,
    });
    const line = { time: Date.now(), level: 'info', source: 'elenet', msg: 'x' } as const;
    for (let i = 0; i < 3; i++) forwarder.sendLog(encodeLogBatch([line]));
    forwarder.send({ kind: 'alarm', seq: 0, ts: Date.now(), alarm: 'trapped', phase: 'start', floor: 2 });
    forwarder.send({ kind: 'status', seq: 0, ts: Date.now(), snapshot: false, status: { floor: 2 } });
    assert.equal(forwarder.logQueue.queued, 3);
    await forwarder.connect({ transport: 'mqtt', url: env.brokerB.url });
    await waitFor(() => seen.length === 5, { message: 'all five messages' });
    assert.deepEqual(seen, ['alarm', 'status', 'log', 'log', 'log']);
    assert.equal(forwarder.logQueue.queued, 0);
    stop.abort();
    await forwarder.close();
    await watcher.endAsync();
  });
});
