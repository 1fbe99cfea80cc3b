/**
 * The rendered prometheus.yml and alertmanager.yml as their own tools read them (`promtool check
 * config`, `amtool check-config`), and the values they refuse, named.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { renderAlertmanagerConfig } from './alertmanager-config.ts';
import { renderPrometheusConfig } from './prometheus-config.ts';

function check(tool: string, args: string[]): string {
  const run = spawnSync(tool, args, { encoding: 'utf8' });
  if (run.error) throw new Error(`${tool} was not found: run \`sh infra/provision.sh\``);
  assert.equal(run.status, 0, `${tool} ${args.join(' ')}:\n${run.stdout}${run.stderr}`);
  return run.stdout + run.stderr;
}

describe('monitoring configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dh-monitoring-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = join(dir, 'ca.crt');
  writeFileSync(ca, '');

  it('renders a prometheus.yml promtool accepts, with HTTPS targets and a rules folder', () => {
    const rulesDir = join(dir, 'rules');
    mkdirSync(rulesDir);
    writeFileSync(join(rulesDir, 'operator.yml'), 'groups: []\n');
    const text = renderPrometheusConfig({
      scrapeInterval: '5s',
      rulesDir,
      alertmanagers: ['http://127.0.0.1:9093', 'https://am.example:443/prefix'],
      externalLabels: { cluster: 'demo' },
      jobs: [
        { name: 'devicehub-nodes', targets: ['127.0.0.1:9464', 'node-2:9464'] },
        {
          name: 'devicehub-gateways',
          targets: ['[::1]:8443'],
          scheme: 'https',
          caFile: ca,
          serverName: 'localhost',
        },
        { name: 'node', targets: ['127.0.0.1:9100'], labels: { host: 'a' }, scrapeInterval: '15s' },
      ],
    });
    const file = join(dir, 'prometheus.yml');
    writeFileSync(file, text);
    assert.match(check('promtool', ['check', 'config', file]), /SUCCESS/);
    const config = JSON.parse(text.slice(text.indexOf('\n') + 1)) as {
      rule_files: string[];
      alerting: { alertmanagers: { scheme: string; path_prefix?: string }[] };
    };
    assert.deepEqual(config.rule_files, [`${rulesDir}/*.yml`]);
    assert.deepEqual(
      config.alerting.alertmanagers.map((a) => `${a.scheme}${a.path_prefix ?? ''}`),
      ['http', 'https/prefix'],
    );
  });

  it('refuses bad jobs, targets and durations, naming them', () => {
    const base = { rulesDir: dir, jobs: [] };
    assert.throws(
      () => renderPrometheusConfig({ ...base, scrapeInterval: '5 s' }),
      /scrapeInterval .* got 5 s/,
    );
    assert.throws(
      () => renderPrometheusConfig({ ...base, jobs: [{ name: 'a', targets: ['http://x:1'] }] }),
      /job a's target "http:\/\/x:1" is not host:port/,
    );
    assert.throws(
      () =>
        renderPrometheusConfig({
          ...base,
          jobs: [
            { name: 'a', targets: [] },
            { name: 'a', targets: [] },
          ],
        }),
      /job a is named twice/,
    );
    assert.throws(
      () => renderPrometheusConfig({ ...base, jobs: [{ name: 'a', targets: [], caFile: ca }] }),
      /CA or server name but scheme http/,
    );
    assert.throws(
      () => renderPrometheusConfig({ ...base, externalLabels: { __x: 'y' } }),
      /bad label name "__x"/,
    );
  });

  it('renders an alertmanager.yml amtool accepts: the webhook with its token, grouping and intervals', () => {
    const text = renderAlertmanagerConfig({
      webhookUrl: 'https://127.0.0.1:8443/v1/monitoring/alertmanager',
      bearerToken: 'a-token-of-enough-length',
      caFile: ca,
      groupWait: '10s',
      groupInterval: '1m',
      repeatInterval: '2h',
    });
    const file = join(dir, 'alertmanager.yml');
    writeFileSync(file, text);
    assert.match(check('amtool', ['check-config', file]), /SUCCESS/);
    const config = JSON.parse(text.slice(text.indexOf('\n') + 1)) as {
      route: Record<string, unknown>;
      receivers: { webhook_configs: { http_config: { authorization: Record<string, string> } }[] }[];
    };
    assert.deepEqual(config.route, {
      receiver: 'devicehub',
      group_by: ['alertname', 'severity'],
      group_wait: '10s',
      group_interval: '1m',
      repeat_interval: '2h',
    });
    assert.deepEqual(config.receivers[0]!.webhook_configs[0]!.http_config.authorization, {
      type: 'Bearer',
      credentials: 'a-token-of-enough-length',
    });
    // With the token in a file (compose's secret) instead.
    const fromFile = renderAlertmanagerConfig({
      webhookUrl: 'http://gateway-1:8080/v1/monitoring/alertmanager',
      bearerTokenFile: '/run/secrets/token',
    });
    assert.match(fromFile, /"credentials_file": "\/run\/secrets\/token"/);
  });

  it('refuses a webhook without a token, a short token, or a bad grouping', () => {
    const webhookUrl = 'http://127.0.0.1:1/v1/monitoring/alertmanager';
    assert.throws(() => renderAlertmanagerConfig({ webhookUrl }), /one of bearerToken and bearerTokenFile/);
    assert.throws(() => renderAlertmanagerConfig({ webhookUrl, bearerToken: 'short' }), /16 or more/);
    assert.throws(
      () => renderAlertmanagerConfig({ webhookUrl, bearerToken: 'x'.repeat(20), groupBy: ['a-b'] }),
      /bad label name "a-b"/,
    );
    assert.throws(
      () => renderAlertmanagerConfig({ webhookUrl, bearerToken: 'x'.repeat(20), repeatInterval: 'forever' }),
      /repeatInterval must be a duration/,
    );
  });
});
