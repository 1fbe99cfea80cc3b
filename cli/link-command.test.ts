/**
 * `devicehub link mqtt` as its own process, with a real mosquitto, Redis and VictoriaLogs: it
 * serves its Prometheus metrics on --metrics-port — messages by outcome, dead letters by code,
 * edges' log lines by outcome (the per-edge budget's drops), the log shipper's families and the
 * process's CPU and RSS.
 * Redis Cluster pass: once
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { createKeyspace, ensureLayout, type Keyspace } from '../bus/mod.ts';
import { LINK_USER } from '../edge/broker/mod.ts';
import { encodeCompact, encodeLogBatches, type LogLine, uplinkTopic } from '../edge/protocol/mod.ts';
import {
  freePort,
  type MosquittoServer,
  spawnDevicehub,
  startMosquitto,
  startVictoriaLogs,
  type VictoriaLogsServer,
  waitFor,
} from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';

const t = useRedis();
let broker: MosquittoServer;
let store: VictoriaLogsServer;
const users: Record<string, string> = { [LINK_USER]: 'hub-secret', 'LM-1': 'lm1-secret' };

before(async () => {
  [broker, store] = await Promise.all([startMosquitto({ users }), startVictoriaLogs()]);
});
after(async () => {
  await Promise.all([broker?.stop(), store?.stop()]);
});

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** `devicehub link mqtt` in `keyspace`, its own session and group, /metrics on `port`. */
function spawnMeteredLink(keyspace: Keyspace, port: number, env: Record<string, string>) {
  return spawnDevicehub(
    [
      ...['link', 'mqtt', ...t.cliArgs(keyspace), '--url', broker.url, '--password', users[LINK_USER]!],
      ...['--client-id', `lm-${keyspace.prefix}`, '--group', keyspace.prefix, '--metrics-port', String(port)],
    ],
    { env },
  );
}

describe('devicehub link', { timeout: 60_000 }, () => {
  it('serves its own metrics on --metrics-port', async () => {
    const keyspace = t.keyspace();
    const port = await freePort();
    await using link = spawnMeteredLink(keyspace, port, {
      DH_LOG_LEVEL: 'warn',
      DEVICEHUB_LOG_STORE: store.url,
      DEVICEHUB_LOG_BUFFER_DIR: mkdtempSync(join(tmpdir(), 'dh-link-metrics-')),
    });
    await link.ready;
    const edge = await mqtt.connectAsync(broker.url, {
      username: 'LM-1',
      password: users['LM-1'],
      protocolVersion: 5,
      clientId: `LM-1-${keyspace.prefix}`,
      reconnectPeriod: 0,
    });
    const publish = (kind: 'alarm' | 'log', bytes: Uint8Array) =>
      edge.publishAsync(uplinkTopic('LM-1', kind), Buffer.from(bytes), { qos: 1 });
    await publish(
      'alarm',
      encodeCompact({ kind: 'alarm', seq: 1, ts: 1, alarm: 'smoke', phase: 'start', floor: 1 }),
    );
    await publish('alarm', new Uint8Array([0xff, 0x00, 0x13]));
    // 4,000 lines at once: past the hub's per-edge burst (3,000), so some are dropped at the link.
    const lines: LogLine[] = Array.from({ length: 4000 }, (_, i) => ({
      time: Date.now(),
      level: 'info',
      source: 'elenet',
      msg: `line ${i}`,
    }));
    for (const batch of encodeLogBatches(lines)) await publish('log', batch);
    await edge.endAsync();

    const url = `http://127.0.0.1:${port}/metrics`;
    const scrape = async () => await (await fetch(url)).text();
    const lineOutcomes = (text: string) =>
      ['accepted', 'dropped_rate', 'dropped_bytes', 'malformed', 'no_store'].map(
        (o) => sample(text, `devicehub_link_edge_log_lines_total{transport="mqtt",outcome="${o}"}`) ?? -1,
      );
    let text = '';
    await waitFor(
      async () => {
        text = await scrape();
        const [accepted = 0, droppedRate = 0] = lineOutcomes(text);
        return accepted + droppedRate === 4000;
      },
      { message: 'the 4,000 log lines counted in /metrics' },
    );
    const [accepted = 0, droppedRate = 0, droppedBytes, malformed, noStore] = lineOutcomes(text);
    assert.ok(accepted >= 3000 && droppedRate > 0, `accepted ${accepted}, dropped_rate ${droppedRate}`);
    assert.deepEqual([droppedBytes, malformed, noStore], [0, 0, 0]);
    const batches = encodeLogBatches(lines).length;
    // Every message received: the alarm, the garbage, the log batches; one dead letter, one entry.
    assert.equal(
      sample(text, 'devicehub_link_messages_total{transport="mqtt",outcome="received"}'),
      2 + batches,
    );
    assert.equal(sample(text, 'devicehub_link_messages_total{transport="mqtt",outcome="dead_lettered"}'), 1);
    assert.equal(sample(text, 'devicehub_link_entries_enqueued_total{transport="mqtt"}'), 1);
    assert.match(text, /\ndevicehub_link_dead_letters_total\{transport="mqtt",code="[A-Z_]+"\} 1\n/);
    // The process's own log shipper and usage.
    assert.match(text, /# TYPE devicehub_log_lines_total counter\n/);
    assert.ok((sample(text, 'devicehub_log_store_up') ?? -1) >= 0);
    const cpu = sample(text, 'process_cpu_seconds_total') ?? 0;
    const rss = sample(text, 'process_resident_memory_bytes') ?? 0;
    assert.ok(cpu > 0.1 && cpu < 600, `cpu ${cpu} s`);
    assert.ok(rss > 30e6 && rss < 4e9, `rss ${rss} bytes`);
    const started = sample(text, 'process_start_time_seconds') ?? 0;
    assert.ok(Math.abs(started - Date.now() / 1000) < 120, `start ${started}`);
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
  });

  it('refuses to start with a layout other than the cluster stored (it would write where no node reads)', async () => {
    const keyspace = t.keyspace({ shards: 8 });
    await ensureLayout(t.bus(keyspace));
    const other = createKeyspace({ prefix: keyspace.prefix, shards: 16, tagGroups: keyspace.tagGroups });
    await using link = spawnDevicehub(
      ['link', 'mqtt', ...t.cliArgs(other), '--url', broker.url, '--password', users[LINK_USER]!],
      { env: { DH_LOG_LEVEL: 'warn' } },
    );
    await assert.rejects(link.ready, /created with shards=8/);
    assert.notEqual(await link.exited, 0);
    assert.match(link.stderrTail(), /this process has shards=16/);
  });

  it('warns, and its /metrics shows 0 hub nodes, while no node lives in its keyspace (a wrong --prefix)', async () => {
    const keyspace = t.keyspace();
    const port = await freePort();
    await using link = spawnMeteredLink(keyspace, port, { DH_LOG_LEVEL: 'info', DH_NO_HUB_WARN_S: '1' });
    await link.ready;
    const hubNodes = async () =>
      sample(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), 'devicehub_link_hub_nodes');
    const said = (text: RegExp) => link.logs.find((l) => text.test(String(l.msg)));
    assert.equal(await hubNodes(), 0);
    const warning = await waitFor(() => said(/no hub node is alive in keyspace/), {
      timeoutMs: 15_000,
      explain: () => link.logs.map((l) => l.msg),
    });
    assert.match(String(warning.msg), new RegExp(`"${keyspace.prefix}".*--prefix`));
    assert.equal(warning.level, 40);
    // A node of this keyspace starts: the gauge and the log say so.
    await using _node = await t.hub(keyspace);
    await waitFor(async () => (await hubNodes()) === 1, { timeoutMs: 15_000, message: 'gauge 1' });
    await waitFor(() => said(/hub nodes are back/), { timeoutMs: 15_000 });
  });
});
