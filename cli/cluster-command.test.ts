/**
 * `devicehub cluster --nodes 3 --gateways 2`: the compose topology as local processes, used end
 * to end: an edge registered through the balanced API, a message produced to the 3-broker
 * Kafka, its state read back through the balancer from whichever gateway answers — all of it over
 * TLS with the run's fleet CA (HTTPS, MQTT over TLS, Kafka SASL_SSL), and the plaintext
 * counterparts refused; the edge's alarm clip fetched from the Ezviz stand-in by one of the two
 * clip workers and served through the balancer; its vision event's frame, uploaded through the
 * balancer, confirmed by the recognition worker.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { clipIdOf } from '../edge/protocol/clips.ts';
import { encodeCompact } from '../edge/protocol/compact.ts';
import { KAFKA_TOPICS } from '../edge/protocol/protocol.ts';
import { descendants, spawnDevicehub, waitFor, waitUntilGone, watchDescendants } from '../infra/mod.ts';
import { checkClusterVerdict } from './testdata/cluster-vision.ts';
import { checkTargetsUp } from './testdata/prometheus-targets.ts';
import { httpsRequest, plainExchange } from './testdata/tls-requests.ts';

interface Summary {
  url: string;
  adminKey: string;
  caFile: string;
  mqttUrl: string;
  kafkaBrokers: string[];
  gateways: string[];
  cdn: string[];
  nodeMetrics: string[];
  ezvizUrl: string;
  clipMetrics: string[];
  recognizeMetrics: string[];
  prometheusUrl: string;
  alertmanagerUrl: string;
  logStore: string;
}

describe('devicehub cluster', { timeout: 600_000 }, () => {
  it('runs 3 hub nodes and 2 balanced gateways that carry an edge’s message end to end', async () => {
    await using cluster = spawnDevicehub(['cluster', '--nodes', '3', '--gateways', '2', '--port', '0'], {
      name: 'devicehub cluster',
    });
    // Minutes at most on a loaded machine (103 s on a quiet 2-core one, 2026-12-04; over 180 s in
    // CI beside the light test stream, the clip workers still starting); if it hangs, say where.
    const summary = (await Promise.race([
      cluster.ready,
      new Promise((_, reject) => {
        setTimeout(
          () =>
            reject(new Error(`devicehub cluster was not ready in 300 s; it said:\n${cluster.stderrTail()}`)),
          300_000,
        ).unref();
      }),
    ])) as unknown as Summary;
    assert.match(summary.url, /^https:/);
    const ca = readFileSync(summary.caFile);
    const api = (path: string, init: { method?: string; body?: string } = {}) =>
      httpsRequest(`${summary.url}${path}`, {
        ca,
        ...init,
        headers: { authorization: `Bearer ${summary.adminKey}`, 'content-type': 'application/json' },
      });

    // Plain HTTP to the balanced port is refused before any request reaches the app.
    const plain = await plainExchange(summary.url, 'GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    assert.match(plain, /^HTTP\/1\.1 400/);
    assert.match(plain, /HTTPS_REQUIRED/);
    // mosquitto's edge listener answers a plaintext MQTT CONNECT with no CONNACK (0x20).
    const mqttPlain = await plainExchange(
      summary.mqttUrl.replace('mqtts:', 'https:'),
      Buffer.from('101000044d5154540402003c0004746573740000', 'hex').toString('latin1'),
    );
    assert.ok(!mqttPlain.startsWith('\x20'), 'a plaintext MQTT CONNECT gets no CONNACK');

    // Each node reports itself once a second: ready is not yet reported, nor is every shard placed.
    type Nodes = { nodes: { node: string; shards: number }[] };
    const readNodes = async () => JSON.parse((await api('/v1/nodes')).body) as Nodes;
    const nodes = await waitFor(
      async () => {
        const n = await readNodes();
        return n.nodes.length === 3 && n.nodes.reduce((sum, x) => sum + x.shards, 0) === 1024 ? n : undefined;
      },
      { timeoutMs: 60_000, message: 'three hub nodes reporting, holding every shard between them' },
    ).catch(readNodes);
    assert.deepEqual(nodes.nodes.map((n) => n.node).sort(), ['node-1', 'node-2', 'node-3']);
    assert.equal(
      nodes.nodes.reduce((sum, n) => sum + n.shards, 0),
      1024,
      'the three nodes hold every shard between them',
    );
    for (const metrics of summary.nodeMetrics) {
      // The hub nodes' metrics stay plain HTTP on loopback (a scraper on the same host).
      assert.match(await (await fetch(metrics)).text(), /devicehub_node_shards\{node="node-\d"\} \d+/);
    }

    const registered = await api('/v1/edges', { method: 'POST', body: JSON.stringify({ id: 'CL-1' }) });
    assert.equal(registered.status, 201);
    // The broker knows the edge at once: the gateway told mosquitto's dynamic security.
    const { secret } = JSON.parse(registered.body) as { secret: string };
    const edge = await mqtt.connectAsync(summary.mqttUrl, {
      ca,
      rejectUnauthorized: true,
      username: 'CL-1',
      password: secret,
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    await edge.endAsync();
    // Kafka is SASL_SSL: the edge logs in as itself with its secret (the gateway made its SCRAM user).
    const producer = new Kafka({
      brokers: summary.kafkaBrokers,
      ssl: { ca: [ca.toString()] },
      sasl: { mechanism: 'scram-sha-512', username: 'CL-1', password: secret },
      logLevel: logLevel.NOTHING,
    }).producer();
    await producer.connect();
    // Its status; its birth naming its camera, and a trapped alarm that ended two minutes ago (by
    // its clock), whose clip the clip workers fetch from the Ezviz stand-in.
    const since = Date.now() - 150_000;
    const camera = { serial: 'CLUSTER01', channel: 1 };
    const birth = { model: 'RV1126', firmware: '1', registrationCode: '1', buildingId: 'B', elevatorNo: 'A' };
    await producer.send({
      topic: KAFKA_TOPICS.compact,
      acks: -1,
      messages: [
        encodeCompact({ kind: 'status', seq: 1, ts: Date.now(), snapshot: false, status: { floor: 7 } }),
        encodeCompact({ kind: 'birth', seq: 2, ts: Date.now(), boot: 'b1', birth: { ...birth, camera } }),
        encodeCompact({ kind: 'alarm', seq: 3, ts: since, alarm: 'trapped', phase: 'start', floor: 7 }),
        encodeCompact({
          kind: 'alarm',
          seq: 4,
          ts: since + 20_000,
          alarm: 'trapped',
          phase: 'end',
          floor: 7,
        }),
      ].map((value) => ({ key: 'CL-1', value: Buffer.from(value) })),
    });
    await producer.disconnect();
    await waitFor(
      async () => {
        const edge = JSON.parse((await api('/v1/edges/CL-1')).body) as { status?: { floor?: number } | null };
        return edge.status?.floor === 7;
      },
      { timeoutMs: 30_000, message: 'CL-1’s status through Kafka, the link and its actor' },
    );

    // The two CDN caches are the devicehub configuration's cdn pool: the edge's configuration
    // ranks them, and each reaches the API over HTTPS checked against the fleet CA (an unknown
    // artifact gets the origin's answer, not a 502 of a refused upstream).
    const config = JSON.parse((await api('/v1/config/edge/CL-1')).body) as {
      updates?: { mirrors: string[] };
    };
    assert.deepEqual([...(config.updates?.mirrors ?? [])].sort(), [...summary.cdn].sort());
    const unknown = `/v1/artifacts/${'0'.repeat(64)}/content`;
    const fromOrigin = (await httpsRequest(`${summary.url}${unknown}`, { ca })).status;
    for (const cache of summary.cdn)
      assert.equal(
        (await httpsRequest(`${cache}${unknown}`, { ca })).status,
        fromOrigin,
        `${cache}: the origin's answer`,
      );

    // The alarm's clip: stored by a clip worker, its signed link served through the balancer.
    const clipId = clipIdOf('CL-1', 'trapped', since);
    let links: { video: string } | null = null;
    await waitFor(
      async () => {
        const got = await api(`/v1/clips/${clipId}`);
        if (got.status !== 200) return false;
        const clip = JSON.parse(got.body) as { status: string; reason: string | null; links: typeof links };
        assert.notEqual(clip.status, 'failed', `CL-1's clip failed: ${clip.reason}`);
        links = clip.links;
        return clip.status === 'stored';
      },
      { timeoutMs: 90_000, message: `CL-1's clip stored; the cluster said:\n${cluster.stderrTail()}` },
    );
    assert.ok(links !== null, 'a stored clip has links');
    const video = await httpsRequest(`${summary.url}${(links as { video: string }).video}`, { ca });
    assert.equal(video.status, 200);
    // Each clip worker serves its /metrics (plain HTTP on loopback): the queue, and one stored clip between them.
    assert.equal(summary.clipMetrics.length, 2);
    let stored = 0;
    for (const metrics of summary.clipMetrics) {
      const text = await (await fetch(metrics)).text();
      assert.match(text, /^devicehub_clips_jobs\{state="completed"\} \d+$/m);
      stored += Number(/^devicehub_clips_stored_total\{[^}]*\} (\d+)$/m.exec(text)?.[1] ?? 0);
    }
    assert.equal(stored, 1, 'one clip worker stored the clip, once');

    // Secondary recognition: a vision event's frame through the balancer, its alarm through Kafka,
    // the verdict from the recognition worker (one by default) in the edge actor's state.
    assert.equal(summary.recognizeMetrics.length, 1);
    await checkClusterVerdict({
      url: summary.url,
      adminKey: summary.adminKey,
      ca,
      kafkaBrokers: summary.kafkaBrokers,
      edge: { id: 'CL-1', secret, seq: 5 },
      recognizeMetrics: summary.recognizeMetrics,
      said: () => cluster.stderrTail(),
    });

    // Monitoring: Prometheus scrapes every hub process, the host, Redis and PostgreSQL, all up
    // (checked late: the first scrapes take a few seconds).
    await checkTargetsUp({
      url: summary.prometheusUrl,
      jobs: [
        ...['devicehub-nodes', 'devicehub-gateways', 'devicehub-clips', 'devicehub-recognize'],
        ...['devicehub-links', 'node', 'redis', 'postgres', 'alertmanager', 'prometheus', 'victorialogs'],
      ],
      counts: {
        'devicehub-nodes': 3,
        'devicehub-gateways': 2,
        'devicehub-clips': summary.clipMetrics.length,
        'devicehub-recognize': summary.recognizeMetrics.length,
      },
      said: () => cluster.stderrTail(),
    });

    // Both gateways answered through the balancer.
    for (let i = 0; i < 6; i++) assert.equal((await api('/v1/edges/CL-1')).status, 200);
    for (const gateway of summary.gateways) {
      const text = (await httpsRequest(`${gateway}/metrics`, { ca })).body;
      const served = text
        .split('\n')
        .filter(
          (line) =>
            line.startsWith('devicehub_http_request_duration_seconds_count') && line.includes('/v1/edges/'),
        )
        .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
      assert.ok(served >= 2, `${gateway} served ${served} of the edge reads`);
    }

    // SIGTERM to the command alone (as `kill` or a service manager sends it): it stops all it
    // started, every one of its processes goes, and it exits 0.
    const seen = watchDescendants(cluster.child.pid!);
    try {
      assert.ok(seen.pids().length >= 10, `the cluster's processes: ${seen.pids().length}`);
      await cluster.stop();
      assert.equal(await cluster.exited, 0, 'SIGTERM stops everything and exits 0');
    } finally {
      seen[Symbol.dispose]();
    }
    await waitUntilGone({ pids: seen.pids(), timeoutMs: 10_000 });
  });

  // Ctrl-C in a terminal: SIGINT to the command's whole process group, while it is starting (the
  // full cluster once up is stopped by SIGTERM above: the same stop, and no process left behind).
  it('leaves no process behind after Ctrl-C while starting', async (c) => {
    const cluster = spawnDevicehub(
      ['cluster', '--nodes', '1', '--gateways', '1', '--kafka-brokers', '0', '--port', '0'],
      { name: 'devicehub cluster', processGroup: true },
    );
    const pid = cluster.child.pid!;
    try {
      // Once Redis and PostgreSQL run (hub nodes, links, gateway yet to come).
      await waitFor(() => descendants(pid).length >= 2, { timeoutMs: 120_000, message: 'servers started' });
      const tree = descendants(pid);
      c.diagnostic(`${tree.length} processes: ${tree.map((p) => p.command.split(' ')[0]).join(', ')}`);
      // Everything it runs until it exits (it may still be starting more).
      const seen = watchDescendants(pid);
      const signalled = Date.now();
      process.kill(-pid, 'SIGINT');
      const exit = await Promise.race([
        cluster.exited,
        new Promise((resolve) => setTimeout(() => resolve('still running'), 60_000).unref()),
      ]);
      c.diagnostic(`exited ${Date.now() - signalled} ms after SIGINT, code ${exit}`);
      seen[Symbol.dispose]();
      assert.notEqual(exit, 'still running');
      await waitUntilGone({ pids: seen.pids(), timeoutMs: 10_000 });
    } finally {
      await cluster.kill('SIGKILL');
    }
  });

  // A test that fails disposes of the command with SIGKILL (`await using`), which it cannot catch:
  // what it started goes with it.
  it('leaves no process behind when killed while starting', async () => {
    const cluster = spawnDevicehub(
      ['cluster', '--nodes', '1', '--gateways', '1', '--kafka-brokers', '0', '--port', '0'],
      { name: 'devicehub cluster' },
    );
    try {
      const pid = cluster.child.pid!;
      await waitFor(() => descendants(pid).some((p) => p.command.includes('redis-server')), {
        timeoutMs: 120_000,
        message: 'Redis started',
      });
      const tree = descendants(pid);
      await cluster[Symbol.asyncDispose]();
      await waitUntilGone({ pids: tree.map((p) => p.pid), timeoutMs: 10_000 });
    } finally {
      await cluster.kill('SIGKILL');
    }
  });
});
