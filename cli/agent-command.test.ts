/**
 * `devicehub agent` as a process: from a configuration file and the environment over it, against
 * a real mosquitto (the edge's own credentials), the hub's MQTT link and a hub node on Redis; the
 * edge comes online in the hub, and SIGTERM stops the agent with exit 0.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LINK_USER } from '../edge/broker/mod.ts';
import { MqttLink } from '../edge/mod.ts';
import { type MosquittoServer, spawnDevicehub, startMosquitto, waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { agentSetup } from './agent-command.ts';

const t = useRedis();
const users = { [LINK_USER]: 'hub-secret', 'E-AGENT': 'agent-secret' };
let broker: MosquittoServer;
before(async () => {
  broker = await startMosquitto({ users });
});
after(async () => {
  await broker?.stop();
});

const birth = {
  model: 'RV1126',
  firmware: '1.0.0',
  registrationCode: 'R-1',
  buildingId: 'B-1',
  elevatorNo: 'A',
};

describe('devicehub agent', { timeout: 90_000 }, () => {
  it('runs the agent from its configuration file: the edge comes online in the hub; SIGTERM exits 0', async () => {
    const keyspace = t.keyspace();
    await using _node = await t.hub(keyspace);
    await using _link = await new MqttLink({
      url: broker.url,
      username: LINK_USER,
      password: users[LINK_USER],
      bus: t.bus(keyspace, t.connect()),
    }).start();
    const dir = mkdtempSync(join(tmpdir(), 'dh-agent-command-'));
    const config = join(dir, 'agent.json');
    // The password comes from the environment, over a wrong one in the file.
    writeFileSync(
      config,
      JSON.stringify({
        edgeId: 'E-AGENT',
        password: 'not-this-one',
        birth,
        dataDir: join(dir, 'data'),
        brokerUrl: broker.url,
        tunnels: { frpc: join(dir, 'frpc'), token: 'x', services: { ssh: '127.0.0.1:22' } },
      }),
    );
    await using agent = spawnDevicehub(['agent', '--config', config], {
      env: { DH_AGENT_PASSWORD: users['E-AGENT'], DH_LOG_LEVEL: 'info' },
    });
    assert.deepEqual(await agent.ready, { ready: true, edgeId: 'E-AGENT' });
    const state = await waitFor(
      async () => {
        const s = await t.edgeState(keyspace, 'E-AGENT');
        return s?.online === true && s.shadow.birth !== undefined ? s : undefined;
      },
      { timeoutMs: 20_000, message: 'E-AGENT online in the hub, with its birth' },
    );
    assert.equal(state.shadow.birth?.registrationCode, 'R-1');
    assert.ok(
      agent.logs.some((l) => l.msg === 'agent started' && l.edgeId === 'E-AGENT' && l.tunnels === true),
      'it logs that it started, with tunnels',
    );
    agent.child.kill('SIGTERM');
    const code = await waitFor(
      async () => (agent.child.exitCode === null ? undefined : agent.child.exitCode),
      {
        timeoutMs: 15_000,
        message: 'the agent to exit after SIGTERM (its stop is bounded at 10 s)',
      },
    );
    assert.equal(code, 0, `exit code; stderr: ${agent.stderrTail()}`);
    assert.ok(agent.logs.some((l) => l.msg === 'stopping' && l.signal === 'SIGTERM'));
  });

  it('refuses a configuration that cannot work, naming the field and where it came from', () => {
    const file = { edgeId: 'E-1', password: 'p', birth, dataDir: '/tmp/x', brokerUrl: 'mqtt://h:1' };
    assert.equal(agentSetup(file, {}, 'a.json').agent.edgeId, 'E-1');
    assert.equal(agentSetup(file, { DH_AGENT_EDGE_ID: 'E-2' }, 'a.json').agent.edgeId, 'E-2');
    assert.equal(agentSetup(file, {}, 'a.json').tunnels, undefined);
    assert.throws(
      () => agentSetup({ ...file, birth: { ...birth, model: 3 } }, {}, 'a.json'),
      /birth\.model must be a non-empty string \(a\.json\)/,
    );
    const camera = { serial: 'K7L2M9Q4Z', channel: 1 };
    assert.deepEqual(
      agentSetup({ ...file, birth: { ...birth, camera } }, {}, 'a.json').agent.birth.camera,
      camera,
    );
    assert.throws(
      () =>
        agentSetup({ ...file, birth: { ...birth, camera: { serial: 'K7L 2M9', channel: 1 } } }, {}, 'a.json'),
      /birth\.camera must be/,
    );
    assert.throws(
      () => agentSetup({ ...file, brokerUrl: undefined }, {}, 'a.json'),
      /brokerUrl or configUrl is required/,
    );
    assert.throws(
      () => agentSetup(file, { DH_AGENT_LOCAL_PORT: '70000' }, 'a.json'),
      (e: Error & { variable?: string }) =>
        e.name === 'ConfigError' && e.variable === 'DH_AGENT_LOCAL_PORT' && /0\.\.65535/.test(e.message),
    );
    assert.throws(
      () => agentSetup({ ...file, tunnels: { frpc: '/bin/frpc' } }, {}, 'a.json'),
      /tunnels\.token is required with frpc/,
    );
    assert.throws(() => agentSetup([], {}, 'a.json'), /expected a JSON object/);
    assert.equal(agentSetup(file, {}, 'a.json').agent.frames, undefined);
    assert.deepEqual(
      agentSetup({ ...file, frames: { source: '/run/elenet/frames', maxFrames: 2 } }, {}, 'a.json').agent
        .frames,
      { source: '/run/elenet/frames', maxFrames: 2 },
    );
    assert.equal(
      agentSetup(file, { DH_AGENT_FRAMES_SOURCE: '/run/f.jpg' }, 'a.json').agent.frames?.source,
      '/run/f.jpg',
    );
    assert.throws(
      () => agentSetup({ ...file, frames: { source: '/f', maxFrames: 5 } }, {}, 'a.json'),
      /frames\.maxFrames must be an integer 1\.\.4/,
    );
    assert.throws(
      () => agentSetup({ ...file, frames: { maxFrames: 2 } }, {}, 'a.json'),
      /frames\.source is required/,
    );
    const updates = { mirrors: ['https://cdn-1:8443'], metadataUrl: 'https://gw/v1/tuf/metadata' };
    assert.deepEqual(agentSetup({ ...file, updates }, {}, 'a.json').updates, {
      ...updates,
      rootFile: undefined,
    });
    assert.throws(
      () => agentSetup({ ...file, updates: { mirrors: ['not a url'] } }, {}, 'a.json'),
      /updates\.mirrors must be a list of URLs/,
    );
  });
});
