/**
 * A QoS 1 message the broker acknowledged with PUBACK 0x10 ("no matching subscribers": no hub link
 * subscribed, as just after a broker restart before the links subscribe again) was dropped by the
 * broker. The uplink says so (`NO_SUBSCRIBERS`), and the forwarder keeps the message and sends it
 * again, with growing delays, until a link hears it; QoS 0 messages cannot be told apart and go.
 * Against a real mosquitto.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { type MosquittoServer, startMosquitto, waitFor } from '../../infra/mod.ts';
import { decodeCompact, uplinkTopic } from '../protocol/mod.ts';
import { AgentError } from './errors.ts';
import { Forwarder } from './forwarder.ts';
import type { Logger } from './logger.ts';
import { openUplink } from './uplink.ts';

const users = { 'E-1': 'secret-e1', 'L-1': 'secret-l1' };

function countingLogger(warnings: string[]): Logger {
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (obj: object, msg?: string) =>
      void warnings.push(`${msg} ${(obj as { err?: Error }).err?.message}`),
    error: () => {},
    child: () => logger,
  };
  return logger;
}

/** A hub link's shared subscription to every edge's uplink, and what it heard. */
async function link(url: string) {
  const client = await mqtt.connectAsync(url, {
    username: 'L-1',
    password: users['L-1'],
    clientId: 'L-1',
    protocolVersion: 5,
  });
  const heard: Buffer[] = [];
  client.on('message', (_topic, payload) => heard.push(payload));
  await client.subscribeAsync('$share/hub/dh/v1/+/up/#', { qos: 1 });
  return { heard, close: () => client.endAsync() };
}

describe('a QoS 1 message nobody subscribed to', () => {
  let broker: MosquittoServer;
  const dirs: string[] = [];
  before(async () => {
    broker = await startMosquitto({ users, hubUsers: ['L-1'] });
  });
  after(async () => {
    await broker?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('fails the uplink’s send with NO_SUBSCRIBERS; with a link subscribed it goes', async () => {
    const pending = new Set<{ end(force?: boolean): unknown }>();
    const uplink = await openUplink(
      { transport: 'mqtt', url: broker.url },
      {
        edgeId: 'E-1',
        password: users['E-1'],
        onCommand: () => {},
        onConnect: () => {},
        log: countingLogger([]),
        pending,
      },
    );
    const message = { topic: uplinkTopic('E-1', 'alarm'), qos: 1 as const, payload: new Uint8Array([1, 2]) };
    await assert.rejects(
      uplink.send(message),
      (err: unknown) => err instanceof AgentError && err.code === 'NO_SUBSCRIBERS' && err.retryable,
    );
    // QoS 0 has no acknowledgement to tell: it is written and gone.
    await uplink.send({ ...message, qos: 0 });
    const hub = await link(broker.url);
    await uplink.send(message);
    await waitFor(() => hub.heard.length === 1, { message: 'the link hears the QoS 1 message' });
    await uplink.close();
    await hub.close();
  });

  it('is kept by the forwarder and sent again until a link subscribes, in order', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'no-subscribers-'));
    dirs.push(dataDir);
    const warnings: string[] = [];
    const stop = new AbortController();
    const forwarder = new Forwarder({
      edgeId: 'E-1',
      password: users['E-1'],
      dataDir,
      reconnect: { baseMs: 50, capMs: 200 },
      onCommand: () => {},
      log: countingLogger(warnings),
      signal: stop.signal,
    });
    await forwarder.connect({ transport: 'mqtt', url: broker.url });
    forwarder.send({ kind: 'alarm', seq: 0, ts: 1000, alarm: 'trapped', phase: 'start', floor: 3 });
    forwarder.send({ kind: 'alarm', seq: 0, ts: 2000, alarm: 'trapped', phase: 'end', floor: 3 });
    await waitFor(() => warnings.filter((w) => w.includes('PUBACK 0x10')).length >= 3, {
      message: 'sends tried again while nobody listens',
    });
    assert.equal(forwarder.stats.sent, 0);
    assert.equal(forwarder.stats.queued, 2, 'both kept');
    const hub = await link(broker.url);
    await waitFor(() => hub.heard.length === 2, { message: 'both delivered once a link subscribed' });
    const phases = hub.heard.map((b) => decodeCompact(b)[0]?.payload as { phase?: string; seq: number });
    assert.deepEqual(
      phases.map((p) => [p.seq, p.phase]),
      [
        [1, 'start'],
        [2, 'end'],
      ],
    );
    assert.equal(forwarder.stats.sent, 2);
    stop.abort();
    await forwarder.close();
    await hub.close();
  });
});
