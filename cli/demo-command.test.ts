/**
 * `devicehub demo` (what `npm start` runs) in a folder of its own: nothing in the clear. The
 * fleet PKI is made in .devicehub/pki at the first start and kept after; the gateway serves HTTPS
 * with it (plain HTTP refused, an unknown CA refused, the CA trusted by curl's way and by
 * Chromium on the dashboard); mosquitto's edge listeners take TLS only (a plaintext MQTT CONNECT
 * gets no CONNACK, a simulated edge logs in with its password over TLS, the mutual-TLS listener
 * refuses a client without a certificate); its legacy edges come in through an authenticated
 * Kafka that refuses a producer without credentials; its wall screen's page runs the demo bundle;
 * its clip worker and Ezviz stand-in store an alarm's clip, served through a signed link; its
 * recognition worker confirms DEMO-VISION's e-bike alarm from the motorcycle photograph it uploaded.
 */
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { chromium } from 'playwright-core';
import { KAFKA_TOPICS, simulatedEdgeId, simulatedPassword } from '../edge/mod.ts';
import { chromiumArgs } from '../gateway/dashboard/testdata/chromium.ts';
import { type DevicehubProcess, spawnDevicehub, waitFor } from '../infra/mod.ts';
import { checkDemoClip } from './testdata/demo-clip.ts';
import { checkDemoVerdict } from './testdata/demo-vision.ts';
import { checkTargetsUp } from './testdata/prometheus-targets.ts';
import { httpsRequest, plainExchange } from './testdata/tls-requests.ts';

interface Ready {
  url: string;
  adminKey: string;
  caFile: string;
  mqtt: { tlsUrl: string; mtlsUrl: string };
  kafka?: { broker: string; edges: number };
  screen?: { page: string } | { skipped: string };
  recognize?: { metricsUrl: string };
  prometheusUrl?: string;
  alertmanagerUrl?: string;
  logStore?: string;
}

/**
 * SIGTERM, so that the demo stops its servers (Redis, mosquitto, Kafka, nginx…) even when a check
 * failed; SIGKILL after 30 s (which would leave them behind).
 */
async function stopOrKill(demo: DevicehubProcess): Promise<void> {
  const stopped = await Promise.race([
    demo.stop().then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), 30_000).unref()),
  ]);
  if (!stopped) await demo.kill();
}

describe('devicehub demo', { timeout: 480_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dh-demo-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const startDemo = async () => {
    const demo = spawnDevicehub(['demo', '--edges', '20', '--nodes', '1', '--kafka-edges', '5'], {
      name: 'devicehub demo',
      cwd: dir,
      // Its own redis-server under <dir>/.devicehub/redis, whatever the suite's REDIS_URL.
      env: { REDIS_URL: '' },
    });
    const ready = (await Promise.race([
      demo.ready,
      new Promise((_, reject) => {
        setTimeout(
          () => reject(new Error(`devicehub demo was not ready in 240 s; it said:\n${demo.stderrTail()}`)),
          240_000,
        ).unref();
      }),
    ])) as unknown as Ready;
    return { demo, ready };
  };

  it('serves HTTPS and MQTT over TLS with the fleet CA it made, and keeps that CA', async () => {
    let caPem: string;
    {
      await using started = await startDemo().then((s) => ({
        ...s,
        [Symbol.asyncDispose]: () => stopOrKill(s.demo),
      }));
      const { demo, ready } = started;
      assert.equal(ready.caFile, join(dir, '.devicehub', 'pki', 'ca.crt'));
      assert.match(ready.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      caPem = readFileSync(ready.caFile, 'utf8');
      const ca = Buffer.from(caPem);
      const auth = { authorization: `Bearer ${ready.adminKey}` };

      // HTTPS with the CA (as `curl --cacert .devicehub/pki/ca.crt` does): the API and the dashboard.
      const edges = await httpsRequest(`${ready.url}/v1/edges?limit=100`, { ca, headers: auth });
      assert.equal(edges.status, 200);
      assert.ok(
        (JSON.parse(edges.body) as { edges: { id: string }[] }).edges.some((e) => e.id === 'E-000001'),
      );
      assert.equal((await httpsRequest(`${ready.url}/ui/`, { ca })).status, 200);
      // The simulated edges (passwords over TLS) reach their actors through the link (its own
      // certificate on the hub's mTLS listener), and DEMO-SSH's agent is online with its own
      // certificate on the edges' mTLS listener (its frpc would speak TLS to frps).
      for (const edgeId of ['E-000001', 'DEMO-SSH', 'L-000001'])
        await waitFor(
          async () => {
            const got = await httpsRequest(`${ready.url}/v1/edges/${edgeId}`, { ca, headers: auth });
            return got.status === 200 && (JSON.parse(got.body) as { online: boolean }).online;
          },
          { timeoutMs: 60_000, message: `${edgeId} online over TLS; the demo said:\n${demo.stderrTail()}` },
        );
      assert.doesNotMatch(demo.stderrTail(), /not started/);
      // Monitoring: Prometheus scrapes every process of the demo and the host, all up.
      assert.ok(ready.prometheusUrl && ready.alertmanagerUrl, 'the demo runs Prometheus and Alertmanager');
      await checkTargetsUp({
        url: ready.prometheusUrl,
        jobs: [
          ...['devicehub-nodes', 'devicehub-gateways', 'devicehub-clips', 'devicehub-recognize'],
          ...['devicehub-links', 'node', 'redis', 'alertmanager', 'prometheus', 'victorialogs'],
        ],
        counts: { 'devicehub-nodes': 1, 'devicehub-gateways': 1 },
        said: () => demo.stderrTail(),
      });
      // L-000001 came through Kafka over SASL_SSL (the box's credentials); without credentials,
      // over TLS alone, nothing is produced.
      assert.ok(ready.kafka, 'the demo runs its legacy edges on Kafka');
      const anonymous = new Kafka({
        brokers: [ready.kafka.broker],
        ssl: { ca: [caPem] },
        connectionTimeout: 10_000,
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
      }).producer();
      await assert.rejects(async () => {
        await anonymous.connect();
        await anonymous.send({ topic: KAFKA_TOPICS.status, messages: [{ key: 'L-000001', value: '{}' }] });
      });
      await anonymous.disconnect().catch(() => {});
      // A tunnel to DEMO-SSH's camera page: its frpc reaches frps over TLS (checked against the CA).
      const opened = await httpsRequest(`${ready.url}/v1/edges/DEMO-SSH/tunnels`, {
        ca,
        headers: { ...auth, 'content-type': 'application/json' },
        method: 'POST',
        body: JSON.stringify({ services: ['camera'] }),
      });
      assert.equal(opened.status, 202, opened.body);
      const tunnel = JSON.parse(opened.body) as { id: string; services: { remotePort: number | null }[] };
      await waitFor(
        async () => {
          const got = await httpsRequest(`${ready.url}/v1/edges/DEMO-SSH/tunnels/${tunnel.id}`, {
            ca,
            headers: auth,
          });
          return (JSON.parse(got.body) as { state: string }).state === 'open';
        },
        { timeoutMs: 60_000, message: 'the tunnel open' },
      );
      assert.match(
        await (await fetch(`http://127.0.0.1:${tunnel.services[0]!.remotePort}/`)).text(),
        /IP camera admin/,
      );
      // Without it the server's certificate is not trusted.
      await assert.rejects(
        httpsRequest(`${ready.url}/healthz`, {}),
        /self[- ]signed|unable to (get|verify)/i,
      );
      // Plain HTTP is refused before a request (and its key) reaches the app.
      const plain = await plainExchange(
        ready.url,
        `GET /v1/edges HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${ready.adminKey}\r\n\r\n`,
      );
      assert.match(plain, /^HTTP\/1\.1 400/);
      assert.match(plain, /HTTPS_REQUIRED/);

      // mosquitto's edge listener: a plaintext MQTT 3.1.1 CONNECT gets no CONNACK (0x20) …
      const connect311 = Buffer.from('101000044d5154540402003c0004746573740000', 'hex');
      const answer = await plainExchange(
        ready.mqtt.tlsUrl.replace('mqtts:', 'https:'),
        connect311.toString('latin1'),
      );
      assert.ok(!answer.startsWith('\x20'), 'a plaintext CONNECT got a CONNACK');
      // … a simulated edge logs in with its password over TLS, its broker checked against the CA …
      const id = simulatedEdgeId(0);
      const edge = await mqtt.connectAsync(ready.mqtt.tlsUrl, {
        ca,
        rejectUnauthorized: true,
        username: id,
        password: simulatedPassword(id),
        clientId: id,
        protocolVersion: 5,
        reconnectPeriod: 0,
      });
      await edge.endAsync();
      // … and the mutual-TLS listener refuses a client without a certificate.
      await assert.rejects(
        mqtt.connectAsync(ready.mqtt.mtlsUrl, {
          ca,
          rejectUnauthorized: true,
          username: id,
          password: simulatedPassword(id),
          protocolVersion: 5,
          reconnectPeriod: 0,
          connectTimeout: 10_000,
        }),
      );

      // Alarm clips: an alarm's clip from the Ezviz stand-in, checked and stored by the demo's worker.
      const clip = await checkDemoClip({
        url: ready.url,
        adminKey: ready.adminKey,
        ca,
        mqttTlsUrl: ready.mqtt.tlsUrl,
        said: () => demo.stderrTail(),
      });
      assert.doesNotMatch(demo.stderrTail(), /clip worker not started/);

      // Secondary recognition: DEMO-VISION's first vision alarm, its frame a motorcycle photograph,
      // confirmed by the demo's recognition worker.
      assert.doesNotMatch(demo.stderrTail(), /recognition worker not started/);
      assert.ok(ready.recognize, 'the demo runs a recognition worker');
      await checkDemoVerdict({
        url: ready.url,
        adminKey: ready.adminKey,
        ca,
        metricsUrl: ready.recognize.metricsUrl,
        said: () => demo.stderrTail(),
      });

      // Chromium loads the dashboard over HTTPS, trusting the demo's certificate only (its key pinned).
      const spki = createHash('sha256')
        .update(
          new X509Certificate(readFileSync(join(dir, '.devicehub', 'pki', 'server.crt'))).publicKey.export({
            type: 'spki',
            format: 'der',
          }),
        )
        .digest('base64');
      const browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: [...chromiumArgs, `--ignore-certificate-errors-spki-list=${spki}`],
      });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`${ready.url}/ui/#key=${ready.adminKey}`);
        await waitFor(async () => (await page.locator('#edges tr').count()) > 20, {
          timeoutMs: 60_000,
          message: 'the dashboard lists the demo’s edges',
        });
        await waitFor(async () => (await page.locator('#live').textContent()) === 'live: connected', {
          timeoutMs: 30_000,
          message: 'the live feed connected over wss',
        });
        // The demo's wall screen runs its bundle, fetched through the CDN caches and checked.
        const screen = ready.screen;
        assert.ok(screen !== undefined && 'page' in screen, `the demo's screen: ${JSON.stringify(screen)}`);
        const wall = await browser.newPage();
        wall.on('pageerror', (e) => errors.push(e.message));
        await wall.goto(screen.page);
        await waitFor(
          async () => (await wall.frameLocator('#bundle').locator('#version').textContent()) === '1.0.0',
          { timeoutMs: 60_000, message: 'the demo screen runs bundle 1.0.0' },
        );
        // The dashboard's alarm view lists the edge's alarms; its clip plays with the clip's length.
        await page.goto(`${ready.url}/ui/#/alarms?edge=${clip.edgeId}`);
        await waitFor(async () => (await page.locator('#alarms tr', { hasText: 'trapped' }).count()) > 0, {
          timeoutMs: 30_000,
          message: `the alarm view lists ${clip.edgeId}'s trapped alarm`,
        });
        await page.locator('#alarms tr', { hasText: 'end' }).locator('a.clip').first().click();
        const video = page.locator('#clip-video');
        await waitFor(async () => (await video.evaluate((v: { readyState: number }) => v.readyState)) >= 1, {
          timeoutMs: 30_000,
          message: 'the clip’s video loads its metadata through the signed link',
        });
        const seconds = await video.evaluate((v: { duration: number }) => v.duration);
        assert.ok(
          Math.abs(seconds * 1000 - clip.durationMs) < 500,
          `${seconds} s, the clip is ${clip.durationMs} ms`,
        );
        assert.deepEqual(errors, []);
      } finally {
        await browser.close();
      }

      await demo.stop();
      assert.equal(await demo.exited, 0, 'SIGTERM stops the demo and it exits 0');
    }

    // The second start keeps the CA (and the gateway's sealing key beside it).
    assert.ok(existsSync(join(dir, '.devicehub', 'pki', 'sealing.key')));
    const { demo, ready } = await startDemo();
    try {
      assert.equal(readFileSync(ready.caFile, 'utf8'), caPem);
      const ca = Buffer.from(caPem);
      assert.equal((await httpsRequest(`${ready.url}/healthz`, { ca })).status, 200);
      await demo.stop();
      assert.equal(await demo.exited, 0);
    } finally {
      await stopOrKill(demo);
    }
  });
});
