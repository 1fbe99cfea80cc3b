/**
 * Edges' log batches through a real mosquitto (dynsec: one role per edge) and the hub's MQTT link
 * into a collecting log sink: the edge id is the topic's, service the line's source, lines
 * normalised; nothing reaches a mailbox; an edge publishing on another edge's log topic is refused
 * by the broker; a zip bomb is dead-lettered and counted; an edge past its budget has its extra
 * lines dropped and counted.
 * Redis Cluster pass: once
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import mqtt from 'mqtt';
import { pack } from 'msgpackr';
import { readDeadLetters } from '../../bus/mod.ts';
import { type MosquittoServer, startMosquitto, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import type { LogRecord } from '../../logs/mod.ts';
import { LINK_USER } from '../broker/mod.ts';
import { encodeLogBatch, type LogLine, PROTOCOL_VERSION, UplinkKind, uplinkTopic } from '../protocol/mod.ts';
import type { EdgeLogBudget } from './log-intake.ts';
import { MqttLink } from './mqtt-link.ts';

const t = useRedis();
let broker: MosquittoServer;
const users: Record<string, string> = { [LINK_USER]: 'hub-secret', 'L-1': 'l1-secret', 'L-2': 'l2-secret' };

before(async () => {
  broker = await startMosquitto({ users });
});
after(async () => {
  await broker?.stop();
});

async function linkWithSink(logBudget?: Partial<EdgeLogBudget>) {
  const keyspace = t.keyspace();
  const records: LogRecord[] = [];
  const link = await new MqttLink({
    bus: t.bus(keyspace, t.connect()),
    url: broker.url,
    username: LINK_USER,
    password: users[LINK_USER]!,
    clientId: `link-${keyspace.prefix}`,
    group: keyspace.prefix,
    logs: { push: (r) => records.push(r) },
    ...(logBudget === undefined ? {} : { logBudget }),
  }).start();
  return { keyspace, records, link };
}

async function edge(id: string) {
  return await mqtt.connectAsync(broker.url, {
    username: id,
    password: users[id],
    protocolVersion: 5,
    clientId: `${id}-${Math.random()}`,
    reconnectPeriod: 0,
  });
}

const T = 1_780_000_000_000;
const lines = (n: number, source = 'elenet'): LogLine[] =>
  Array.from({ length: n }, (_, i) => ({ time: T + i, level: 'info', source, msg: `line ${i}` }));

describe('edge logs over MQTT', () => {
  it('ships a batch with the topic’s edge id, source as service, lines normalised; no mailbox entry', async () => {
    const { records, link } = await linkWithSink();
    await using _link = link;
    const e = await edge('L-1');
    const batch = encodeLogBatch([
      { time: T, level: 'warn', source: 'elenet', msg: 'camera reconnect' },
      { time: T + 1, level: 'error', source: 'litefcccore', msg: new Uint8Array([0x41, 0xff, 0x0a, 0x42]) },
      { time: T + 2, level: 'debug', source: 'agent', msg: 'x'.repeat(20_000) },
    ]);
    await e.publishAsync(uplinkTopic('L-1', 'log'), Buffer.from(batch), { qos: 1 });
    await waitFor(() => records.length === 3, { message: 'three records in the sink' });
    assert.deepEqual(
      records.slice(0, 2).map((r) => ({ ...r })),
      [
        { time: T, level: 'warn', service: 'elenet', edgeId: 'L-1', msg: 'camera reconnect' },
        { time: T + 1, level: 'error', service: 'litefcccore', edgeId: 'L-1', msg: 'A\\xff\\x0aB' },
      ],
    );
    assert.match(records[2]!.msg, /^x+…\[cut \d+ bytes\]$/);
    assert.ok(Buffer.byteLength(records[2]!.msg) <= 8192);
    assert.equal(link.stats.enqueued, 0, 'logs never go to a mailbox');
    assert.equal(link.logLines.accepted, 3);
    await e.endAsync();
  });

  it('refuses, at the broker, an edge publishing a log batch on another edge’s topic', async () => {
    const { records, link } = await linkWithSink();
    await using _link = link;
    const a = await edge('L-1');
    await assert.rejects(
      a.publishAsync(uplinkTopic('L-2', 'log'), Buffer.from(encodeLogBatch(lines(1))), { qos: 1 }),
      /Not authorized|135/i,
    );
    // Its own topic still works afterwards, and only its own lines arrive.
    await a.publishAsync(uplinkTopic('L-1', 'log'), Buffer.from(encodeLogBatch(lines(2))), { qos: 1 });
    await waitFor(() => records.length === 2, { message: 'L-1’s own lines' });
    assert.deepEqual(new Set(records.map((r) => r.edgeId)), new Set(['L-1']));
    assert.equal(link.stats.received, 1, 'the forged batch never reached the hub');
    await a.endAsync();
  });

  it('dead-letters a zip bomb and garbage on the log topic, counted, and takes the next good batch', async () => {
    const { keyspace, records, link } = await linkWithSink();
    await using _link = link;
    const e = await edge('L-2');
    const body = pack({
      t: T,
      c: 1,
      n: 1,
      u: 100,
      z: deflateRawSync(Buffer.alloc(4 * 1024 * 1024), { level: 9 }),
    });
    const bomb = Buffer.concat([Buffer.from([(PROTOCOL_VERSION << 4) | UplinkKind.log]), body]);
    await e.publishAsync(uplinkTopic('L-2', 'log'), bomb, { qos: 1 });
    await e.publishAsync(uplinkTopic('L-2', 'log'), Buffer.from('not a log batch'), { qos: 1 });
    await e.publishAsync(uplinkTopic('L-2', 'log'), Buffer.from(encodeLogBatch(lines(1))), { qos: 1 });
    await waitFor(() => records.length === 1, { message: 'the good batch' });
    assert.deepEqual(link.stats.deadLettered, { TOO_LARGE: 1, BAD_HEADER: 1 });
    assert.equal(link.logLines.malformed, 2);
    const dead = await readDeadLetters(t.bus(keyspace));
    assert.deepEqual(dead.map((d) => [d.address, d.code]).sort(), [
      ['edge/L-2', 'BAD_HEADER'],
      ['edge/L-2', 'TOO_LARGE'],
    ]);
    await e.endAsync();
  });

  it('drops and counts an edge’s lines past its budget, while another edge’s lines go through', async () => {
    const { keyspace, records, link } = await linkWithSink({
      linesPerSecond: 0.001,
      burstLines: 5,
      bytesPerDay: 1e9,
    });
    await using _link = link;
    const [a, b] = [await edge('L-1'), await edge('L-2')];
    await a.publishAsync(uplinkTopic('L-1', 'log'), Buffer.from(encodeLogBatch(lines(20))), { qos: 1 });
    await b.publishAsync(uplinkTopic('L-2', 'log'), Buffer.from(encodeLogBatch(lines(3, 'agent'))), {
      qos: 1,
    });
    await waitFor(() => records.length === 8, { message: '5 of L-1’s lines and 3 of L-2’s' });
    assert.equal(records.filter((r) => r.edgeId === 'L-1').length, 5);
    assert.deepEqual(
      records.filter((r) => r.edgeId === 'L-1').map((r) => r.msg),
      ['line 0', 'line 1', 'line 2', 'line 3', 'line 4'],
    );
    assert.equal(link.logLines.dropped_rate, 15);
    assert.equal(link.logLines.accepted, 8);
    await Promise.all([a.endAsync(), b.endAsync()]);
    // Every link process adds its counts in Redis (the gateway's devicehub_edge_log_lines_total).
    await link.stop();
    const bus = t.bus(keyspace);
    assert.deepEqual(await bus.redis.hgetall(bus.keyspace.edgeLogLines), {
      accepted: '8',
      dropped_rate: '15',
    });
  });
});
