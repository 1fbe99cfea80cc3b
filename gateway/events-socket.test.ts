/**
 * `/v1/events` on a served gateway: a WebSocket client with an API key (header, or the browser's
 * subprotocol form) receives fleet events as they happen, filtered by type and edge; without a
 * key it gets 401, with an edge's credentials 403.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createActorClient } from '../actors/mod.ts';
import { edgeActor } from '../edge/mod.ts';
import { waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { createApiKey } from './auth.ts';
import { openDatabase } from './db/database.ts';
import { alarms } from './db/schema.ts';
import { createGateway, serveGateway } from './gateway.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Opens a socket and collects its messages; resolves once `ready` arrived. */
async function listen(url: string, options: { headers?: Record<string, string>; protocols?: string[] }) {
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
  const messages: { type: string; edgeId?: string; alarm?: string }[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (m.type === 'ready') resolve();
      else messages.push(m);
    });
    ws.once('error', reject);
  });
  cleanup.push(async () => ws.close());
  return { ws, messages };
}

/** The HTTP status an upgrade is refused with. */
const refusal = (url: string, headers: Record<string, string> = {}) =>
  new Promise<number>((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => {});
  });

describe('live events', { timeout: 30_000 }, () => {
  it('streams fleet events to authenticated sockets, filtered, and refuses the rest', async () => {
    const keyspace = t.keyspace();
    const node = await t.hub(keyspace);
    const database = await openDatabase();
    const gateway = await createGateway({ database, bus: t.bus(keyspace, t.connect()) });
    const served = await serveGateway(gateway);
    cleanup.push(
      () => node.stop(),
      () => database.close(),
      () => gateway.stop(),
      () => served.close(),
    );
    const { key } = await createApiKey(database.db, { name: 'svc', scope: 'service' });
    const base = served.url.replace('http', 'ws');
    const all = await listen(`${base}/v1/events`, { headers: { authorization: `Bearer ${key}` } });
    const browser = await listen(`${base}/v1/events?types=alarm.start&edge=W-2`, {
      protocols: ['devicehub.v1', `bearer.${key}`],
    });
    assert.equal(browser.ws.protocol, 'devicehub.v1');

    const client = createActorClient(t.bus(keyspace), edgeActor);
    await client.send('W-1', 'alarm', { alarm: 'smoke', phase: 'start' });
    await client.send('W-2', 'alarm', { alarm: 'trapped', phase: 'start' });
    await client.send('W-2', 'alarm', { alarm: 'trapped', phase: 'end' });
    await waitFor(() => all.messages.length >= 5, { message: 'five events on the socket' });
    assert.deepEqual(all.messages.map((m) => `${m.type} ${m.edgeId}`).sort(), [
      'alarm.end W-2',
      'alarm.start W-1',
      'alarm.start W-2',
      'edge.online W-1',
      'edge.online W-2',
    ]);
    assert.deepEqual(
      browser.messages.map((m) => `${m.type} ${m.edgeId} ${m.alarm}`),
      ['alarm.start W-2 trapped'],
    );

    // The gateway's sink (default settings) recorded the alarms meanwhile.
    await waitFor(async () => (await database.db.select().from(alarms)).length === 3, {
      message: 'three alarm events in the history',
    });

    assert.equal(await refusal(`${base}/v1/events`), 401);
    assert.equal(await refusal(`${base}/v1/events`, { authorization: 'Bearer dhk_wrong' }), 401);
    const edge = await gateway.app.request('/v1/edges', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${(await createApiKey(database.db, { name: 'op', scope: 'operator' })).key}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ id: 'W-9' }),
    });
    const { secret } = (await edge.json()) as { secret: string };
    const basic = `Basic ${Buffer.from(`W-9:${secret}`).toString('base64')}`;
    assert.equal(await refusal(`${base}/v1/events`, { authorization: basic }), 403);
    assert.equal(await refusal(`${base}/v1/nowhere`, { authorization: `Bearer ${key}` }), 404);
  });
});
