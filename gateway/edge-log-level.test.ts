/**
 * An edge's log shipping through the configuration service (issue 18, docs/decisions/038): the
 * `logs` part of an edge document is checked (400 naming the field), merges by scope (the group
 * names the files, the edge's own document the override), and `POST /v1/edges/{id}/log-level`
 * (operators only, audited) writes the override into the edge's document without touching the
 * rest of it, which the edge's long-poll then delivers. In-process over PGlite and a real Redis.
 * Redis Cluster pass: once
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useRedis } from '../infra/test-redis.ts';
import { auditLog } from './db/schema.ts';
import { basic, useGatewayHarness } from './testdata/harness.ts';

const t = useRedis();
const { useDatabase, setupDisposable } = useGatewayHarness(t);

describe('edge log level', { timeout: 60_000 }, () => {
  useDatabase('pglite');

  it('checks the logs part, merges it by scope and writes a timed override that the long-poll delivers', async () => {
    await using s = await setupDisposable();
    const reg = await s.call('POST', '/v1/edges', {
      key: s.keys.operator,
      body: { id: 'LG-1', groupId: 'b7' },
    });
    const { secret } = (await reg.json()) as { secret: string };
    const put = (scope: string, body: unknown) =>
      s.call('PUT', `/v1/config/edge/${scope}`, { key: s.keys.operator, body });
    const refused = async (body: unknown, field: RegExp) => {
      const res = await put('group:b7', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(((await res.json()) as { error: { message: string } }).error.message, field);
    };
    await refused({ logs: { level: 'loud' } }, /logs\.level/);
    await refused({ logs: { files: [{ path: 'relative.log', source: 'elenet' }] } }, /logs\.files\.0\.path/);
    await refused(
      { logs: { files: [{ path: '/var/log/../etc/shadow', source: 'x' }] } },
      /logs\.files\.0\.path/,
    );
    await refused(
      { logs: { files: [{ path: '/var/log/e.log', source: 'no spaces' }] } },
      /logs\.files\.0\.source/,
    );
    await refused({ logs: { linesPerSecond: 0 } }, /logs\.linesPerSecond/);
    await refused({ logs: { bytesPerDay: 10 } }, /logs\.bytesPerDay/);
    await refused({ logs: { override: { level: 'debug', until: 'tomorrow' } } }, /logs\.override\.until/);
    await refused({ logs: { colour: 'red' } }, /logs/);

    const files = [{ path: '/var/log/elenet.log', source: 'elenet' }];
    assert.equal((await put('group:b7', { logs: { level: 'warn', files, linesPerSecond: 5 } })).status, 200);
    assert.equal((await put('module:LG-1', { snapshotSeconds: 30 })).status, 200);

    const post = (key: string, body: unknown, id = 'LG-1') =>
      s.call('POST', `/v1/edges/${id}/log-level`, { key, body });
    assert.equal((await post(s.keys.service, { level: 'debug', minutes: 60 })).status, 403);
    assert.equal((await post(s.keys.operator, { level: 'debug', minutes: 0 })).status, 400);
    assert.equal((await post(s.keys.operator, { level: 'verbose', minutes: 60 })).status, 400);
    assert.equal((await post(s.keys.operator, { level: 'debug', minutes: 60 }, 'NOPE')).status, 404);

    const before = Date.now();
    const res = await post(s.keys.operator, { level: 'debug', minutes: 60 });
    assert.equal(res.status, 200);
    const set = (await res.json()) as { level: string; until: string; version: number };
    assert.equal(set.level, 'debug');
    const until = Date.parse(set.until);
    assert.ok(until >= before + 3_600_000 && until <= Date.now() + 3_600_000, set.until);
    assert.equal(set.version, 2, 'a new version of the edge’s own document');

    const config = await s.call('GET', '/v1/config/edge/LG-1', { auth: basic('LG-1', secret) });
    assert.deepEqual(await config.json(), {
      snapshotSeconds: 30,
      logs: { level: 'warn', files, linesPerSecond: 5, override: { level: 'debug', until: set.until } },
    });
    const audited = (await s.database.db.select().from(auditLog)).filter(
      (a) => a.action === 'edge.log-level',
    );
    assert.deepEqual(
      audited.map((a) => [a.target, (a.details as { level: string }).level]),
      [['edge/LG-1', 'debug']],
    );
  });
});
