/**
 * deploy/prometheus/alertmanager.yml, as docker-compose.yml's Alertmanager reads it: amtool
 * accepts it, its route is the one infra/alertmanager-config.ts renders for the demo and `npm run
 * cluster` (same grouping and intervals), and every webhook carries the bearer token from the file
 * the service writes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { renderAlertmanagerConfig } from '../infra/mod.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const text = readFileSync(join(root, 'deploy/prometheus/alertmanager.yml'), 'utf8');

interface Config {
  route: Record<string, unknown>;
  receivers: {
    name: string;
    webhook_configs: {
      url: string;
      send_resolved: boolean;
      http_config: { authorization: { type: string; credentials_file: string } };
    }[];
  }[];
}

describe('deploy/prometheus/alertmanager.yml', () => {
  it('is accepted by amtool', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dh-alertmanager-'));
    try {
      const token = join(dir, 'webhook.token');
      writeFileSync(token, 'a-token-of-enough-length');
      const file = join(dir, 'alertmanager.yml');
      writeFileSync(file, text.replaceAll('/run/alertmanager/webhook.token', token));
      const run = spawnSync('amtool', ['check-config', file], { encoding: 'utf8' });
      if (run.error)
        throw new Error('amtool was not found: run `sh infra/provision.sh` (prometheus-alertmanager)');
      assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
      assert.match(run.stdout, /SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('routes as the demo and the cluster do, with the token on every webhook', () => {
    const config = parse(text) as Config;
    const rendered = JSON.parse(
      renderAlertmanagerConfig({
        webhookUrl: 'http://gateway-1:8080/v1/monitoring/alertmanager',
        bearerTokenFile: '/run/alertmanager/webhook.token',
      }).replace(/^#.*\n/, ''),
    ) as Config;
    assert.deepEqual(config.route, rendered.route);
    const [receiver] = config.receivers;
    assert.equal(config.receivers.length, 1);
    assert.equal(receiver!.name, rendered.receivers[0]!.name);
    assert.ok(receiver!.webhook_configs.length >= 1);
    for (const webhook of receiver!.webhook_configs) {
      assert.match(webhook.url, /^http:\/\/gateway-\d+:8080\/v1\/monitoring\/alertmanager$/);
      assert.equal(webhook.send_resolved, true);
      assert.deepEqual(webhook.http_config.authorization, {
        type: 'Bearer',
        credentials_file: '/run/alertmanager/webhook.token',
      });
    }
  });
});
