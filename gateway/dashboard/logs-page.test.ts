/**
 * The dashboard's logs in Chromium over a real VictoriaLogs: `#/logs` lists the last hour's lines
 * newest first; a filter (level, words) narrows them; the live tail shows a line written after it
 * was switched on; an alarm's "logs" link and a tunnel's open the edge's lines 5 minutes either
 * side of their moment (not those outside); the edge page's "debug for an hour" sets the level.
 */
// Redis Cluster pass: once (what this tests is the dashboard in Chromium; its Redis use is incidental).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { startVictoriaLogs, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { type LogRecord, openLogStore } from '../../logs/mod.ts';
import { seedAlarms } from '../alarms/testdata/alarm-gateway.ts';
import { createApiKey } from '../auth.ts';
import { openDatabase } from '../db/database.ts';
import { edges, tunnels } from '../db/schema.ts';
import { createGateway, serveGateway } from '../gateway.ts';
import { launchChromium, testArtifacts } from './testdata/chromium.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('the dashboard’s logs', { timeout: 120_000 }, () => {
  it('lists, filters and tails lines, and opens an edge’s lines around an alarm and a tunnel', async () => {
    const vl = await startVictoriaLogs({ retention: '2d' });
    cleanup.push(() => vl.stop());
    const store = openLogStore(vl.url, { tailDelayMs: 1_000, tailRefreshMs: 200, timeoutMs: 5_000 });
    cleanup.push(async () => await store[Symbol.asyncDispose]());
    const database = await openDatabase();
    cleanup.push(() => database.close());
    const gateway = await createGateway({ database, bus: t.bus(t.keyspace(), t.connect()), logs: store });
    cleanup.push(() => gateway.stop());
    const { url, close } = await serveGateway(gateway);
    cleanup.push(close);
    const db = database.db;
    const { key } = await createApiKey(db, { name: 'op', scope: 'operator' });
    await db.insert(edges).values([{ id: 'E-logs', labels: { building: 'B1' }, secretHash: 'x' }]);

    const now = Date.now();
    const alarmAt = now - 20 * 60_000;
    const tunnelAt = now - 40 * 60_000;
    await seedAlarms(db, [
      { eventId: 'g0-1-0', edgeId: 'E-logs', alarm: 'trapped', phase: 'start', at: alarmAt },
    ]);
    await db.insert(tunnels).values({
      id: 't-logs',
      edgeId: 'E-logs',
      services: [{ name: 'ssh', remotePort: 20_000 }],
      state: 'closed',
      requestedBy: 'key:op',
      requestedAt: new Date(tunnelAt),
      expiresAt: new Date(tunnelAt + 1800_000),
      endedAt: new Date(tunnelAt + 600_000),
    });
    const line = (at: number, level: LogRecord['level'], msg: string, edgeId = 'E-logs'): LogRecord => ({
      time: at,
      level,
      msg,
      service: 'elenet',
      edgeId,
    });
    await store.write([
      line(alarmAt - 2 * 60_000, 'info', 'door closing before the alarm'),
      line(alarmAt + 60_000, 'error', 'camera timeout after the alarm'),
      line(alarmAt - 9 * 60_000, 'info', 'long before the alarm'),
      line(tunnelAt + 60_000, 'warn', 'sshd accepted a session'),
      line(now - 60_000, 'info', 'another edge’s line', 'E-other'),
    ]);
    // VictoriaLogs makes a write searchable a moment later (sooner on a quiet machine than on a
    // busy one): the page asks once when opened, so it opens once the store answers all five.
    await waitFor(
      async () =>
        (await store.query({ from: now - 3_600_000, to: Date.now(), limit: 10 })).records.length === 5,
      { timeoutMs: 20_000, message: 'the five lines searchable in VictoriaLogs' },
    );

    const browser = await launchChromium();
    cleanup.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const rows = async () => ((await page.locator('#logs').textContent()) ?? '').replace(/\s+/g, ' ');
    try {
      await page.goto(`${url}/ui/#key=${key}`);
      // The last hour, newest first.
      await page.locator('#nav-logs').click();
      await waitFor(async () => (await page.locator('#logs tr').count()) === 6, {
        timeoutMs: 20_000,
        message: 'the last hour’s five lines',
      });
      const text = await rows();
      assert.ok(
        text.indexOf('another edge’s line') < text.indexOf('camera timeout') &&
          text.indexOf('camera timeout') < text.indexOf('door closing') &&
          text.indexOf('long before') < text.indexOf('sshd accepted'),
        text,
      );
      // A filter: warn or worse, the word "timeout".
      await page.locator('#lf-level').selectOption('warn');
      await page.locator('#lf-q').fill('timeout');
      await page.locator('#log-filters button').click();
      await waitFor(async () => (await page.locator('#logs tr').count()) === 2, {
        message: 'the filter applied',
      });
      assert.match(await rows(), /camera timeout after the alarm/);
      assert.match(page.url(), /level=warn&.*q=timeout|q=timeout.*level=warn/);

      // The live tail, with the same filter: a new matching line arrives on top.
      await page.locator('#logs-tail').check();
      await waitFor(async () => (await page.locator('#logs-tail-status').textContent()) === 'live', {
        message: 'the tail connected',
      });
      await waitFor(
        async () => {
          await store.write([
            line(Date.now(), 'error', 'live timeout from the tail'),
            line(Date.now(), 'info', 'live timeout below the level'),
          ]);
          return (await page.locator('#logs td.tail').count()) > 0;
        },
        { timeoutMs: 20_000, intervalMs: 500, message: 'a tailed line on the page' },
      );
      assert.match((await page.locator('#logs tr').nth(1).textContent()) ?? '', /live timeout from the tail/);
      assert.doesNotMatch(await rows(), /below the level/);
      await page.screenshot({ path: join(testArtifacts(), 'dashboard-logs.png'), fullPage: true });
      await page.locator('#logs-tail').uncheck();

      // From the alarm: the edge's lines 5 minutes either side.
      await page.goto(`${url}/ui/#/alarms?edge=E-logs`);
      await page.locator('#alarms tr', { hasText: 'trapped' }).locator('a.alarm-logs').click();
      await waitFor(async () => (await page.locator('#logs tr').count()) === 3, {
        message: 'the lines around the alarm',
      });
      assert.equal(
        new URL(page.url()).hash,
        `#/logs?edge=E-logs&from=${alarmAt - 300_000}&to=${alarmAt + 300_000}`,
      );
      const around = await rows();
      assert.match(around, /camera timeout after the alarm.*door closing before the alarm/);
      assert.doesNotMatch(around, /long before the alarm|another edge/);
      assert.equal(await page.locator('#lf-edge').inputValue(), 'E-logs');

      // From the tunnel on the edge's page; and debug for an hour.
      await page.goto(`${url}/ui/#/edges/E-logs`);
      await page.locator('#recent-tunnels a.tunnel-logs').click();
      await waitFor(async () => /sshd accepted a session/.test(await rows()), {
        message: 'the tunnel’s lines',
      });
      assert.equal((await page.locator('#logs tr').count()) - 1, 1);
      await page.goto(`${url}/ui/#/edges/E-logs`);
      const asked = page.waitForRequest((r) => r.url().endsWith('/v1/edges/E-logs/log-level'));
      await page.locator('#edge-debug-hour').click();
      const request = await asked;
      assert.equal(request.method(), 'POST');
      assert.deepEqual(request.postDataJSON(), { level: 'debug', minutes: 60 });
      await waitFor(
        async () => /^debug until /.test((await page.locator('#edge-log-level').textContent()) ?? ''),
        {
          message: 'the level set',
        },
      );
      assert.deepEqual(errors, [], 'no errors in the page');
    } catch (error) {
      await page.screenshot({ path: join(testArtifacts(), 'dashboard-logs-failed.png'), fullPage: true });
      throw error;
    }
  });
});
