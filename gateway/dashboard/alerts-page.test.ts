/**
 * The dashboard's alerts page in Chromium, over a real Prometheus and Alertmanager routing to the
 * served gateway's webhook: a rule with a bad expression is refused with promtool's message shown
 * under the form; a good one is listed, applied, fires, and shows among the alerts firing now and
 * on the live list; a silence added from the page is listed active; the rule is deleted with a click.
 */
// Redis Cluster pass: once (what this tests is the dashboard in Chromium; its Redis use is incidental).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { createApiKey } from '../auth.ts';
import { openDatabase } from '../db/database.ts';
import { createGateway, serveGateway } from '../gateway.ts';
import { startAlertStack } from '../monitoring/testdata/alert-stack.ts';
import { launchChromium, testArtifacts } from './testdata/chromium.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const TOKEN = 'alerts-page-webhook-token-0123';

describe('the dashboard’s alerts page', { timeout: 90_000 }, () => {
  it('refuses a bad rule with promtool’s message, shows a good one firing, silences it, deletes it', async () => {
    const stack = await startAlertStack({ token: TOKEN, repeatInterval: '1h' });
    cleanup.push(() => stack.stop());
    const database = await openDatabase();
    cleanup.push(() => database.close());
    const gateway = await createGateway({
      database,
      bus: t.bus(t.keyspace(), t.connect()),
      monitoring: stack.monitoring,
    });
    cleanup.push(() => gateway.stop());
    const { url, close } = await serveGateway(gateway);
    cleanup.push(close);
    await stack.routeTo(url);
    const { key } = await createApiKey(database.db, { name: 'ops', scope: 'operator' });

    const browser = await launchChromium();
    cleanup.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const text = async (selector: string) => (await page.locator(selector).textContent())?.trim() ?? '';
    try {
      await page.goto(`${url}/ui/#key=${key}`);
      await page.locator('#nav-alerts').click();
      await page.locator('#alert-rules').waitFor();

      await page.fill('#rule-name', 'PageTestFiring');
      await page.fill('#rule-metric', 'rate(node_load1[5m');
      await page.fill('#rule-summary', 'always firing (page test)');
      await page.locator('#rule-severity').selectOption('critical');
      await page.locator('#rule-save').click();
      await page.locator('#rule-refusal').waitFor();
      assert.match(
        await text('#rule-refusal'),
        /promtool refused the rule group: .*PageTestFiring.*parse error/,
      );
      assert.match(await text('#alert-rules'), /no rules yet$/);

      await page.fill('#rule-metric', 'vector(1)');
      await page.fill('#rule-for', '0');
      await page.locator('#rule-save').click();
      await waitFor(async () => (await text('#alert-rules')).includes('(vector(1)) > 0'), {
        message: 'the rule listed',
      });
      assert.equal(await page.locator('#rule-refusal').count(), 0);
      await waitFor(async () => (await text('#firing-alerts')).includes('PageTestFiring'), {
        timeoutMs: 45_000,
        message: 'the alert firing on the page',
      });
      assert.match(
        await text('#alert-events'),
        /firing.*PageTestFiring.*critical.*always firing \(page test\)/s,
      );

      await page.fill('#silence-alertname', 'PageTestFiring');
      await page.fill('#silence-comment', 'looking into it');
      await page.locator('#silence-add').click();
      await waitFor(async () => (await text('#alert-silences')).includes('alertname="PageTestFiring"'), {
        message: 'the silence listed',
      });
      assert.match(await text('#alert-silences'), /active.*key:ops.*looking into it/s);
      await page.screenshot({ path: join(testArtifacts(), 'dashboard-alerts.png'), fullPage: true });

      await page.locator('#alert-rules .rule-delete').click();
      await waitFor(async () => (await text('#alert-rules')).endsWith('no rules yet'), {
        message: 'the rule deleted',
      });
      assert.deepEqual(errors, [], 'no errors in the page');
    } catch (error) {
      await page.screenshot({ path: join(testArtifacts(), 'dashboard-alerts-failed.png'), fullPage: true });
      throw error;
    }
  });
});
