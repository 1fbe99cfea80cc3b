/**
 * The alert rules and the Grafana dashboard: promtool checks the rules and runs their unit tests
 * (deploy/prometheus/alerts.test.yml) and the Prometheus configuration; every DeviceHub metric
 * they use is one the code exports, and the dashboard shows everything the alerts watch.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

function promtool(args: string[], cwd: string): string {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (run.error) {
    throw new Error('promtool was not found: run `sh infra/provision.sh` (apt-get install prometheus)');
  }
  assert.equal(run.status, 0, `promtool ${args.join(' ')}:\n${run.stdout}${run.stderr}`);
  return run.stdout;
}

/** Metric names in PromQL expressions (identifiers followed by a selector, range or `)`). */
const metricsIn = (text: string) =>
  new Set(text.match(/\b(?:devicehub_[a-z0-9_]+|redis_[a-z0-9_]+|up)\b(?=\s*[{[)\s]|$)/g) ?? []);

/** Every devicehub_* name the code exports (the gateway's, the hub nodes', the clip and the recognition workers'). */
function exportedMetrics(): Set<string> {
  const names = new Set<string>([
    'devicehub_http_request_duration_seconds_count',
    'devicehub_http_request_duration_seconds_bucket',
    'devicehub_clips_alarm_end_to_stored_seconds_bucket',
    // The hub nodes' turn latency histogram (written as name + `_bucket`/`_sum`/`_count`).
    'devicehub_node_turn_latency_seconds_bucket',
    // The recognition workers' histograms (written as name + `_bucket`/`_sum`/`_count`).
    ...['queue_wait_seconds', 'inference_seconds', 'batch_size'].flatMap((h) =>
      ['bucket', 'sum', 'count'].map((part) => `devicehub_recognize_${h}_${part}`),
    ),
  ]);
  for (const file of [
    'gateway/metrics.ts',
    'actors/prometheus.ts',
    'gateway/tuf/metrics.ts',
    'clips/metrics.ts',
    'vision/worker/metrics.ts',
    'gateway/fleet-signals/metrics.ts',
    'edge/link/link-metrics.ts',
  ]) {
    for (const [name] of read(file).matchAll(/devicehub_[a-z0-9_]+/g)) names.add(name);
  }
  // prom-client's default metrics, with the gateway's prefix.
  names.add('devicehub_gateway_nodejs_eventloop_lag_p99_seconds');
  return names;
}

describe('monitoring', () => {
  it('has alert rules that promtool accepts and whose unit tests pass', () => {
    const dir = join(root, 'deploy/prometheus');
    assert.match(promtool(['check', 'rules', 'alerts.yml'], dir), /SUCCESS: 36 rules found/);
    assert.match(promtool(['test', 'rules', 'alerts.test.yml'], dir), /SUCCESS/);
    // The configuration as Prometheus will read it (rule file path made local).
    const copy = mkdtempSync(join(tmpdir(), 'dh-prometheus-'));
    writeFileSync(join(copy, 'alerts.yml'), read('deploy/prometheus/alerts.yml'));
    writeFileSync(
      join(copy, 'prometheus.yml'),
      read('deploy/prometheus/prometheus.yml').replace(
        '/etc/prometheus/alerts.yml',
        join(copy, 'alerts.yml'),
      ),
    );
    assert.match(promtool(['check', 'config', 'prometheus.yml'], copy), /SUCCESS/);
  });

  it('alerts on the failures an operator must hear about', () => {
    const alerts = [...read('deploy/prometheus/alerts.yml').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    assert.deepEqual(alerts.sort(), [
      'AlarmRateSpike',
      'BuildingOffline',
      'ClipBacklogGrowing',
      'ClipQueueStuck',
      'ClipWorkerDown',
      'ClipsFailing',
      'ClipsSlow',
      'DeadLettersRising',
      'EdgeMessagesDeadLettered',
      'EdgesOfflineInBuilding',
      'EzvizRateLimited',
      'EzvizTokenFailing',
      'FleetSignalsStale',
      'HandlingLatencyHigh',
      'HostCpuHigh',
      'HostDiskAlmostFull',
      'HostDiskFillingUp',
      'HostMemoryHigh',
      'HubNodeDown',
      'IngestDropped',
      'LinkWithoutHubNodes',
      'MailboxLagHigh',
      'NodeBacklogHigh',
      'OutboxBacklogOld',
      'RecognitionBacklog',
      'RecognitionFailing',
      'RecognitionQueueAtBound',
      'RecognitionQueueStuck',
      'RecognitionTimeouts',
      'RecognizeWorkerDown',
      'RedisMemoryHigh',
      'ScrapeTargetDown',
      'TufMetadataExpiring',
      'TunnelFailures',
      'WebBackendBacklog',
      'WebBackendRefusing',
    ]);
    const tested = [...read('deploy/prometheus/alerts.test.yml').matchAll(/alertname: (\w+)/g)].map(
      (m) => m[1],
    );
    for (const alert of [
      'HubNodeDown',
      'MailboxLagHigh',
      'HandlingLatencyHigh',
      'NodeBacklogHigh',
      'OutboxBacklogOld',
      'IngestDropped',
      'LinkWithoutHubNodes',
      'DeadLettersRising',
      'EdgeMessagesDeadLettered',
      'TufMetadataExpiring',
      'ClipWorkerDown',
      'ClipsFailing',
      'ClipBacklogGrowing',
      'ClipsSlow',
      'EzvizRateLimited',
      'EzvizTokenFailing',
      'RecognizeWorkerDown',
      'RecognitionBacklog',
      'RecognitionQueueAtBound',
      'RecognitionTimeouts',
      'RecognitionFailing',
      'RecognitionQueueStuck',
      'ClipQueueStuck',
      'EdgesOfflineInBuilding',
      'BuildingOffline',
      'FleetSignalsStale',
      'AlarmRateSpike',
      'WebBackendRefusing',
      'ScrapeTargetDown',
      'HostDiskAlmostFull',
      'HostDiskFillingUp',
      'HostMemoryHigh',
      'HostCpuHigh',
    ]) {
      assert.ok(tested.includes(alert), `${alert} has a unit test`);
    }
  });

  it('has a Grafana dashboard that shows every metric the alerts watch, all of them exported', () => {
    const files = readdirSync(join(root, 'deploy/grafana/dashboards'));
    assert.deepEqual(files, ['devicehub.json']);
    const dashboard = JSON.parse(read('deploy/grafana/dashboards/devicehub.json')) as {
      uid: string;
      panels: { id: number; title: string; targets: { expr: string }[] }[];
    };
    assert.equal(
      new Set(dashboard.panels.map((p) => p.id)).size,
      dashboard.panels.length,
      'panel ids are unique',
    );
    const shown = new Set<string>();
    for (const panel of dashboard.panels) {
      assert.ok(panel.targets.length > 0, `${panel.title} has a query`);
      for (const target of panel.targets) for (const m of metricsIn(target.expr)) shown.add(m);
    }
    const watched = metricsIn(read('deploy/prometheus/alerts.yml'));
    for (const metric of watched) assert.ok(shown.has(metric), `the dashboard shows ${metric}`);
    const exported = exportedMetrics();
    for (const metric of [...shown, ...watched]) {
      if (metric.startsWith('devicehub_'))
        assert.ok(exported.has(metric), `${metric} is exported by the code`);
    }
  });
});
