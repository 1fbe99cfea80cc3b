/**
 * An edge's reconnects: the jittered, growing delays (pure), and a client against a real mosquitto
 * that is stopped and started again: it comes back by itself, sends the QoS 1 message it held,
 * and stays away for good once it is ended.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { type MosquittoServer, startMosquitto, waitFor } from '../../infra/mod.ts';
import { jitteredBackoffMs, RECONNECT_BACKOFF, reconnectWithBackoff } from './reconnect.ts';

describe('jitteredBackoffMs', () => {
  const backoff = { baseMs: 500, capMs: 8000 };

  it('draws within a window that doubles per attempt up to the cap', () => {
    const almostOne = () => 0.999_999;
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 60, 5000].map((a) => jitteredBackoffMs(a, backoff, almostOne)),
      [499, 999, 1999, 3999, 7999, 7999, 7999, 7999],
    );
    assert.equal(
      jitteredBackoffMs(3, backoff, () => 0),
      0,
    );
    assert.equal(
      jitteredBackoffMs(2, backoff, () => 0.5),
      1000,
    );
  });

  it('spreads a fleet over the window rather than at one instant', () => {
    const delays = Array.from({ length: 2000 }, () => jitteredBackoffMs(4, backoff));
    const seconds = new Set(delays.map((d) => Math.floor(d / 1000)));
    assert.equal(seconds.size, 8, `delays fall in every second of the 8 s window: ${[...seconds]}`);
    assert.ok(delays.every((d) => d >= 0 && d < 8000));
  });

  it('refuses a window that cannot be', () => {
    assert.throws(() => jitteredBackoffMs(0, { baseMs: 0, capMs: 10 }), RangeError);
    assert.throws(() => jitteredBackoffMs(0, { baseMs: 100, capMs: 10 }), RangeError);
  });
});

describe('reconnectWithBackoff (real mosquitto)', () => {
  let broker: MosquittoServer;
  const users = { 'E-1': 'secret-1', 'L-1': 'secret-2' };
  before(async () => {
    broker = await startMosquitto({ users, hubUsers: ['L-1'] });
  });
  after(async () => {
    await broker?.stop();
  });

  it('refuses a bad backoff at once, and the default is 1 s doubling to 15 s', () => {
    const client = mqtt.connect('mqtt://127.0.0.1:9', { reconnectPeriod: 0, manualConnect: true });
    assert.throws(() => reconnectWithBackoff(client, { baseMs: 10, capMs: 5 }), RangeError);
    assert.deepEqual(RECONNECT_BACKOFF, { baseMs: 1000, capMs: 15_000 });
  });

  it('comes back after the broker restarts, sends the QoS 1 message it held, and stays ended when ended', async () => {
    const listener = await mqtt.connectAsync(broker.url, {
      username: 'L-1',
      password: users['L-1'],
      clientId: 'L-1',
      clean: false,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 300 },
    });
    const heard: string[] = [];
    listener.on('message', (_topic, payload) => heard.push(payload.toString()));
    await listener.subscribeAsync('dh/v1/E-1/up/#', { qos: 1 });

    const edge = mqtt.connect(broker.url, {
      username: 'E-1',
      password: users['E-1'],
      clientId: 'E-1',
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    let connects = 0;
    edge.on('connect', () => connects++);
    edge.on('error', () => {});
    reconnectWithBackoff(edge, { baseMs: 50, capMs: 400 });
    await waitFor(() => connects === 1, { message: 'the first connection' });

    await broker.stop();
    await waitFor(() => !edge.connected, { message: 'the edge sees the broker gone' });
    // Held while the broker is away: it goes out once the edge is back.
    const sent = edge.publishAsync('dh/v1/E-1/up/alarm', 'held', { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1000)); // several failed attempts
    assert.equal(connects, 1, 'no connection while the broker is down');
    await broker.restart(); // stopped: starts it again
    await waitFor(() => connects === 2, { message: 'the edge back by itself' });
    await sent;
    await waitFor(() => heard.includes('held'), { message: 'the held QoS 1 message delivered' });

    // Ended while an attempt waits (the broker away): the attempt never runs.
    await broker.stop();
    await waitFor(() => !edge.connected, { message: 'the edge sees the broker gone again' });
    await edge.endAsync();
    await broker.restart(); // stopped: starts it again
    await new Promise((resolve) => setTimeout(resolve, 1000)); // past the longest delay (400 ms)
    assert.equal(connects, 2, 'an ended client does not come back');
    await listener.endAsync();
  });
});
