/**
 * Simulated edges on a loopback broker connect each from its own loopback address (so a shard's
 * tens of thousands of connections do not make the kernel walk one address's ports): through a
 * relay in front of a real mosquitto that records where each connection comes from.
 */
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type MosquittoServer, startMosquitto, waitFor } from '../../infra/mod.ts';
import { connectEdge, endEdge } from './mqtt-edges.ts';
import { loopbackSourceOf, sourceAddressFor } from './source-address.ts';

describe('source addresses', () => {
  it('gives each edge its own 127/8 address for a loopback broker, none for another host', () => {
    assert.equal(sourceAddressFor('mqtt://127.0.0.1:1883', 0), '127.1.0.0');
    assert.equal(sourceAddressFor('mqtts://127.0.0.1:8883', 258), '127.1.1.2');
    const many = new Set(Array.from({ length: 65_536 }, (_, i) => loopbackSourceOf(i)));
    assert.equal(many.size, 65_536);
    for (const a of many) assert.match(a, /^127\.1\.\d{1,3}\.\d{1,3}$/);
    assert.equal(loopbackSourceOf(100_000), '127.2.134.160');
    for (const url of [
      'mqtt://broker.example:1883',
      'mqtt://10.0.0.5:1883',
      'mqtt://localhost:1883',
      'not a url',
    ])
      assert.equal(sourceAddressFor(url, 7), undefined, url);
  });
});

describe('an edge connecting from its source address', { timeout: 30_000 }, () => {
  const id = 'E-SRC-01';
  let broker: MosquittoServer;
  let relay: Server;
  const seen: string[] = [];
  const open = new Set<Socket>();
  before(async () => {
    broker = await startMosquitto({ users: { [id]: 'pw-src' } });
    const target = new URL(broker.url);
    relay = createServer((socket) => {
      seen.push(socket.remoteAddress ?? '?');
      open.add(socket);
      const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
      socket.pipe(upstream).pipe(socket);
      const close = () => {
        open.delete(socket);
        socket.destroy();
        upstream.destroy();
      };
      socket.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    relay?.close();
    await broker?.stop();
  });

  it('is heard from that address by a real broker, and comes back from it after a drop', async () => {
    const { port } = relay.address() as { port: number };
    const url = `mqtt://127.0.0.1:${port}`;
    const stats = { connected: 0, unheard: 0 };
    const client = connectEdge(id, {
      url,
      password: 'pw-src',
      stats,
      sourceAddress: sourceAddressFor(url, 513),
      reconnect: { baseMs: 50, capMs: 200 },
    });
    try {
      await waitFor(() => stats.connected === 1, { timeoutMs: 10_000, message: 'the edge connected' });
      assert.deepEqual(seen, ['127.1.2.1']);
      // QoS 1 through the broker: the connection is MQTT end to end, not only TCP.
      const packet = await client.publishAsync(`dh/v1/${id}/up/status`, Buffer.from([1]), { qos: 1 });
      assert.ok(packet !== undefined);
      for (const s of open) s.destroy();
      await waitFor(() => seen.length === 2 && stats.connected === 1, {
        timeoutMs: 10_000,
        message: 'the edge reconnected',
      });
      assert.deepEqual(seen, ['127.1.2.1', '127.1.2.1']);
    } finally {
      await endEdge(client);
    }
  });
});
