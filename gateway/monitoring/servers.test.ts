/**
 * The servers page's API against a real Prometheus scraping a real node_exporter and the gateway's
 * own /metrics (every second), plus a process target nobody listens on: the hosts and processes
 * with their health, each host panel's chart with data on the range's time axis, a process's RSS,
 * bad panels, ranges and filters refused naming the field (an injection attempt among them), the
 * operator scope, and a 503 with the reason when Prometheus is down, too slow or not configured.
 */
// Redis Cluster pass: once (what this tests is the Prometheus API behind the gateway; its Redis use is incidental).
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { createActorClient, nodeStatsToPrometheus, serveMetrics, startHubNode } from '../../actors/mod.ts';
import { counterActor } from '../../actors/testdata/actors.ts';
import {
  type ExporterServer,
  freePort,
  type PrometheusServer,
  startNodeExporter,
  startPrometheus,
  waitFor,
} from '../../infra/mod.ts';
import { FAST_HUB, useRedis } from '../../infra/test-redis.ts';
import { createApiKey } from '../auth.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { createGateway, type Gateway, serveGateway } from '../gateway.ts';
import { openPrometheus, PrometheusError } from './prometheus-client.ts';
import { panelExpression } from './series.ts';

const t = useRedis();

interface Series {
  panel: string;
  unit: string;
  step: number;
  t: number[];
  series: { label: string; values: (number | null)[] }[];
}
interface Target {
  job: string;
  instance: string;
  up: boolean;
  name: string;
  lastError: string;
}

describe('the servers API', { timeout: 60_000 }, () => {
  let exporter: ExporterServer;
  let prometheus: PrometheusServer;
  let database: Database;
  let gateway: Gateway;
  let closeServed: () => Promise<void>;
  let operator: string;
  let service: string;
  let gatewayTarget: string;
  let deadTarget: string;
  const get = (path: string, key = operator) =>
    gateway.app.request(path, { headers: { authorization: `Bearer ${key}` } });

  before(async () => {
    exporter = await startNodeExporter();
    prometheus = await startPrometheus({
      targets: [{ name: 'node', targets: [exporter.target] }],
      scrapeInterval: '1s',
    });
    database = await openDatabase();
    gateway = await createGateway({
      database,
      bus: t.bus(t.keyspace(), t.connect()),
      monitoring: { prometheusUrl: prometheus.url },
    });
    const served = await serveGateway(gateway);
    closeServed = served.close;
    gatewayTarget = new URL(served.url).host;
    deadTarget = `127.0.0.1:${await freePort()}`;
    await prometheus.setTargets([
      { name: 'node', targets: [exporter.target] },
      { name: 'devicehub-gateways', targets: [gatewayTarget] },
      { name: 'devicehub-nodes', targets: [deadTarget] },
    ]);
    operator = (await createApiKey(database.db, { name: 'op-servers', scope: 'operator' })).key;
    service = (await createApiKey(database.db, { name: 'svc-servers', scope: 'service' })).key;
  });
  after(async () => {
    await closeServed?.();
    await gateway?.stop();
    await database?.close();
    await prometheus?.stop();
    await exporter?.stop();
  });

  it('lists the hosts and processes Prometheus scrapes, up or down', async () => {
    let last: unknown;
    const listed = await waitFor(
      async () => {
        const res = await get('/v1/servers');
        assert.equal(res.status, 200, await res.clone().text());
        const body = (await res.json()) as { hosts: Target[]; processes: Target[] };
        const dead = body.processes.find((p) => p.instance === deadTarget);
        const self = new URL(prometheus.url).host;
        const up = [gatewayTarget, self].every((i) => body.processes.find((p) => p.instance === i)?.up);
        last = body;
        // A target counts once it is up: a first scrape can fail (node_exporter still starting,
        // or a busy machine past the 1 s scrape timeout, Prometheus's own included) and the next
        // one succeed. The host's name is asked for beside its health: a scrape that lands between
        // the two answers makes it up but not yet named (its instance stands in), so wait for both.
        const host = body.hosts[0];
        const named = host !== undefined && host.name !== host.instance;
        return body.hosts.length === 1 && host!.up && named && dead?.lastError && up ? body : undefined;
      },
      { timeoutMs: 30_000, message: 'the host, the gateway and Prometheus up and the dead target scraped' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; the last answer: ${JSON.stringify(last)}`);
    });
    assert.deepEqual(
      listed.hosts.map((h) => [h.job, h.instance, h.up, h.name]),
      [['node', exporter.target, true, hostname()]],
    );
    const processes = listed.processes.map((p) => [p.job, p.instance, p.up]);
    assert.deepEqual(processes, [
      ['devicehub-gateways', gatewayTarget, true],
      ['devicehub-nodes', deadTarget, false],
      ['prometheus', new URL(prometheus.url).host, true],
    ]);
    assert.match(listed.processes[1]!.lastError, /connection refused/);
  });

  it('draws each host panel over the range, on one time axis', async () => {
    const host = encodeURIComponent(exporter.target);
    for (const panel of ['cpu', 'memory', 'disk', 'network']) {
      const chart = await waitFor(
        async () => {
          const res = await get(`/v1/servers/series?panel=${panel}&host=${host}&range=15m`);
          assert.equal(res.status, 200, await res.clone().text());
          const body = (await res.json()) as Series;
          return body.series.some((s) => s.values.some((v) => v !== null)) && body;
        },
        { timeoutMs: 20_000, message: `data in panel ${panel}` },
      );
      assert.equal(chart.step, 15);
      assert.equal(chart.t.length, (15 * 60) / 15 + 1, 'a point every 15 s over 15 minutes');
      assert.ok(
        chart.t.every((x, i) => i === 0 || x - chart.t[i - 1]! === 15),
        'the axis steps by 15 s',
      );
      assert.ok(Math.abs(chart.t.at(-1)! - Date.now() / 1000) < 30, 'the axis ends now');
      for (const s of chart.series) assert.equal(s.values.length, chart.t.length, `${panel} ${s.label}`);
      const values = chart.series.flatMap((s) => s.values.filter((v) => v !== null));
      if (chart.unit === 'percent')
        assert.ok(
          values.every((v) => v >= 0 && v <= 100),
          `${panel}: percentages ${values.slice(0, 5)}`,
        );
      if (panel === 'cpu')
        assert.deepEqual(
          chart.series.map((s) => s.label),
          ['busy'],
        );
      if (panel === 'network')
        assert.deepEqual(
          chart.series.map((s) => s.label),
          ['in', 'out'],
        );
      if (panel === 'disk')
        assert.ok(
          chart.series.some((s) => s.label === '/'),
          'the root filesystem',
        );
    }
    // Without a host: one series per host, named by its instance.
    const all = (await (await get('/v1/servers/series?panel=memory')).json()) as Series;
    assert.deepEqual(
      all.series.map((s) => s.label),
      [exporter.target],
    );
    assert.equal(all.step, 30, 'the default range is an hour, a point every 30 s');
  });

  it('draws a process’s memory: the gateway’s own RSS', async () => {
    const chart = await waitFor(
      async () => {
        const body = (await (
          await get(
            `/v1/servers/series?panel=process-rss&host=${encodeURIComponent(gatewayTarget)}&range=15m`,
          )
        ).json()) as Series;
        return body.series[0]?.values.some((v) => v !== null) && body;
      },
      { timeoutMs: 20_000, message: 'the gateway’s RSS' },
    );
    assert.deepEqual(
      chart.series.map((s) => s.label),
      ['devicehub-gateways'],
    );
    const rss = chart.series[0]!.values.filter((v) => v !== null);
    assert.ok(
      rss.every((v) => v > 10 * 1024 * 1024 && v < 8 * 1024 ** 3),
      `RSS ${rss.slice(-1)} bytes`,
    );
  });

  it('draws a hub node’s messages/s, p99 over the rate window and mailbox backlog', async () => {
    const keyspace = t.keyspace({ shards: 8 });
    await using node = await startHubNode({
      bus: t.bus(keyspace, t.connect('hub')),
      actors: [counterActor],
      nodeId: 'servers-n1',
      ...FAST_HUB,
    });
    await using metrics = await serveMetrics({
      what: 'hub node',
      collect: () => nodeStatsToPrometheus(node.stats()),
    });
    const client = createActorClient(t.bus(keyspace), counterActor);
    let seq = 0;
    const sending = setInterval(() => void client.send('c-1', 'add', { seq: ++seq }).catch(() => {}), 50);
    try {
      await prometheus.setTargets([
        { name: 'node', targets: [exporter.target] },
        { name: 'devicehub-gateways', targets: [gatewayTarget] },
        { name: 'devicehub-nodes', targets: [deadTarget, new URL(metrics.url).host] },
      ]);
      const latest = (panel: string) =>
        waitFor(
          async () => {
            const res = await get(`/v1/servers/series?panel=${panel}&node=servers-n1&range=15m`);
            assert.equal(res.status, 200, await res.clone().text());
            const body = (await res.json()) as Series;
            const values = body.series[0]?.values.filter((v) => v !== null) ?? [];
            return values.length > 0 && { labels: body.series.map((s) => s.label), value: values.at(-1)! };
          },
          { timeoutMs: 20_000, message: `data in panel ${panel}` },
        );
      const messages = await latest('messages');
      assert.deepEqual(messages.labels, ['servers-n1']);
      assert.ok(messages.value > 0 && messages.value < 100, `${messages.value} messages/s (one every 50 ms)`);
      // histogram_quantile over the buckets' rate: a latency, in ms, of a node that handles in ms.
      const p99 = await latest('p99');
      assert.deepEqual(p99.labels, ['servers-n1']);
      assert.ok(p99.value > 0 && p99.value < 60_000, `p99 ${p99.value} ms`);
      const backlog = await latest('backlog');
      assert.deepEqual(backlog.labels, ['servers-n1']);
      assert.ok(Number.isInteger(backlog.value) && backlog.value >= 0, `backlog ${backlog.value}`);
    } finally {
      clearInterval(sending);
    }
  });

  it('refuses an unknown panel or range, and a filter that is not a label value, naming the field', async () => {
    const refused = async (query: string, field: string) => {
      const res = await get(`/v1/servers/series?${query}`);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(res.status, 400, `${query}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, 'INVALID_REQUEST');
      assert.ok(body.error.message.startsWith(`${field}:`), `${query}: ${body.error.message}`);
    };
    await refused('panel=up', 'panel');
    await refused('range=15m', 'panel');
    await refused('panel=cpu&range=2d', 'range');
    // PromQL injection: out of the matcher, into another selector.
    await refused(`panel=cpu&host=${encodeURIComponent('x"}) or vector(1) or (up{instance="')}`, 'host');
    await refused(`panel=cpu&host=${encodeURIComponent('127.0.0.1:9100",job=~".+')}`, 'host');
    await refused(`panel=messages&node=${encodeURIComponent('node-1"} or up{x="')}`, 'node');
    await refused(`panel=cpu&host=${encodeURIComponent('a\nb')}`, 'host');
    // A filter the panel does not take.
    await refused('panel=cpu&node=node-1', 'node');
    await refused(`panel=messages&host=${encodeURIComponent(exporter.target)}`, 'host');
    await refused(`panel=backlog&host=${encodeURIComponent(exporter.target)}`, 'host');
    // Whatever passes the pattern stays inside one quoted label value.
    assert.equal(
      panelExpression({ panel: 'p99', range: '1h', node: 'node-1' }),
      '1000 * histogram_quantile(0.99, sum by (node, le) (rate(devicehub_node_turn_latency_seconds_bucket{node="node-1"}[60s])))',
    );
    assert.equal(
      panelExpression({ panel: 'backlog', range: '1h', node: 'node-1' }),
      'max by (node) (devicehub_node_backlog_entries{node="node-1"})',
    );
  });

  it('needs the operator scope', async () => {
    for (const path of ['/v1/servers', '/v1/servers/series?panel=cpu', '/v1/servers/alerts'])
      assert.equal((await get(path, service)).status, 403, path);
    assert.equal((await gateway.app.request('/v1/servers')).status, 401);
  });

  it('lists the alerts Prometheus’s rules fire (none here)', async () => {
    const res = await get('/v1/servers/alerts');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { alerts: [] });
  });

  it('answers 503 with the reason when Prometheus is too slow or not configured', async () => {
    // A listener that never answers: the client's deadline.
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s)).listen(0, '127.0.0.1');
    await new Promise((resolve) => silent.once('listening', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const slow = openPrometheus(`http://127.0.0.1:${port}`, { timeoutMs: 200 });
      await assert.rejects(
        slow.targets(),
        (e: unknown) => e instanceof PrometheusError && e.code === 'TIMEOUT',
      );
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
    // Another gateway of the same cluster, without Prometheus.
    await using none = await createGateway({ database, bus: t.bus(t.keyspace(), t.connect()) });
    const res = await none.app.request('/v1/servers', { headers: { authorization: `Bearer ${operator}` } });
    assert.equal(res.status, 503);
    const body = (await res.json()) as { error: { message: string; details: { reason: string } } };
    assert.equal(body.error.details.reason, 'NOT_CONFIGURED');
    assert.match(body.error.message, /DEVICEHUB_PROMETHEUS_URL/);
  });

  // Last: it stops Prometheus.
  it('answers 503 with the reason when Prometheus is down', async () => {
    await prometheus.stop();
    for (const path of ['/v1/servers', '/v1/servers/series?panel=cpu', '/v1/servers/alerts']) {
      const res = await get(path);
      const body = (await res.json()) as {
        error: { code: string; message: string; details: { reason: string } };
      };
      assert.equal(res.status, 503, `${path}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, 'UNAVAILABLE');
      assert.equal(body.error.details.reason, 'UNREACHABLE');
      assert.match(body.error.message, new RegExp(`Prometheus at ${prometheus.url} is unreachable`));
    }
  });
});
