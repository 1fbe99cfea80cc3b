/**
 * The simulator through a real mosquitto (one password per simulated edge), the MQTT link and a
 * hub node: every edge is born, reports status, and an alarm storm reaches its actors.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type MosquittoServer, startMosquitto, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { LINK_USER } from '../broker/mod.ts';
import { MqttLink } from '../link/mod.ts';
import { Simulator, simulatedEdgeId, simulatedPassword } from './simulator.ts';

const EDGES = 40;
const users: Record<string, string> = { [LINK_USER]: 'hub-secret' };
for (let i = 0; i < EDGES; i++) users[simulatedEdgeId(i)] = simulatedPassword(simulatedEdgeId(i));
const t = useRedis();
let broker: MosquittoServer;
before(async () => {
  broker = await startMosquitto({ users });
});
after(async () => {
  await broker?.stop();
});

describe('simulator', { timeout: 60_000 }, () => {
  it('runs edges with their own connections; an alarm storm reaches the actors', async () => {
    const keyspace = t.keyspace();
    await using _node = await t.hub(keyspace);
    await using _link = await new MqttLink({
      url: broker.url,
      username: LINK_USER,
      password: 'hub-secret',
      bus: t.bus(keyspace, t.connect()),
    }).start();
    await using sim = await new Simulator({
      url: broker.url,
      edges: EDGES,
      password: simulatedPassword,
      speed: 30,
    }).start();
    await waitFor(() => sim.stats.connected === EDGES, { message: 'every edge connected' });
    sim.alarmStorm(500, 0.1);
    const state = async (i: number) => await t.edgeState(keyspace, simulatedEdgeId(i));
    await waitFor(
      async () => {
        let trapped = 0;
        for (let i = 0; i < EDGES; i++) {
          const s = await state(i);
          if (s?.shadow.birth === undefined || s.shadow.status === undefined) return false;
          if (s.openAlarms.trapped) trapped++;
        }
        return trapped >= 4;
      },
      { timeoutMs: 20_000, message: 'every edge born with a status, 4 of them trapped' },
    );
    assert.equal(sim.stats.alarmsRaised, 4);
    assert.equal(sim.stats.publishErrors, 0);
    const s0 = (await state(0))!;
    assert.equal(s0.online, true);
    assert.equal(s0.seq.gaps, 0);
  });

  it('spreads its edges over the listeners of one broker (urls: edge i to the (i mod n)th)', async () => {
    await using spread = await startMosquitto({ users, listeners: 3 });
    const ports = spread.urls.map((u) => Number(new URL(u).port));
    assert.equal(new Set(ports).size, 3);
    assert.equal(spread.urls[0], spread.url);
    await using sim = await new Simulator({ urls: spread.urls, edges: EDGES, speed: 30 }).start();
    await waitFor(() => sim.stats.connected === EDGES, { message: 'every edge connected' });
    // The broker's side of each connection, by its local address 127.0.0.1 and port (/proc/net/tcp,
    // established = 01). The port alone is not enough: a socket another test binds to another
    // loopback address before it connects (as the simulator's source addresses do) may get the
    // same port number.
    const established = (port: number) =>
      readFileSync('/proc/net/tcp', 'utf8')
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(/\s+/))
        .filter(
          (f) => f[3] === '01' && f[1] === `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`,
        ).length;
    // An edge that reconnected under load leaves its old socket until mosquitto takes its session
    // over: wait for the counts to settle, then compare.
    await waitFor(() => ports.map(established).join() === '14,13,13', {
      message: 'the broker side of every edge connection, by listener',
    }).catch(() => undefined);
    assert.deepEqual(ports.map(established), [14, 13, 13]);
  });
});
