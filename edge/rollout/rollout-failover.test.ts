import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActorClient, readActorState, readLeases } from '../../actors/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { M } from './members.ts';
import { rolloutActor } from './rollout-actor.ts';
import type { RolloutMember, RolloutSpec } from './spec.ts';
import { type RolloutState, summarize } from './state.ts';
import { FakeAgents } from './testdata/fake-agents.ts';

const t = useRedis();

const summaryOf = (s: RolloutState | undefined) => (s === undefined ? 'no state' : summarize(s));

describe('a rollout when the hub node holding it dies', { timeout: 120_000 }, () => {
  it('goes on on another node after kill -9 mid-wave, no edge assigned twice', async () => {
    const keyspace = t.keyspace();
    const bus = t.bus(keyspace);
    await using a = t.hubProcess(keyspace, 'a');
    await using b = t.hubProcess(keyspace, 'b');
    await Promise.all([a.ready, b.ready]);
    await using agents = new FakeAgents(t.bus(keyspace, t.connect()), () => 'healthy');
    const spec: RolloutSpec = {
      target: {
        kind: 'packages',
        targets: [
          {
            path: 'edge-package/elenet/2.1.0/e.tar',
            name: 'elenet',
            version: '2.1.0',
            kind: 'edge-package',
            sha256: 'b'.repeat(64),
            length: 1,
          },
        ],
      },
      waves: [
        { name: 'canary', percent: 5, successPercent: 100, holdMs: 200 },
        { name: 'forty', percent: 40, successPercent: 90, holdMs: 200 },
        { name: 'all', percent: 100, successPercent: 90, holdMs: 200 },
      ],
      // 40 edges a second: the second wave takes about two seconds to admit, so the kill lands in it.
      ratePerMinute: 2400,
      tickMs: 100,
      spreadMs: 0,
    };
    const members: RolloutMember[] = Array.from({ length: 200 }, (_, i) => ({ edgeId: `E-${i}` }));
    await createActorClient(bus, rolloutActor).send('r9', 'create', { spec, members });
    const read = async () => (await readActorState<RolloutState>(bus, 'rollout/r9'))?.state;
    // Mid-wave: the second wave has started and some, not all, of its edges were assigned.
    await waitFor(
      async () => {
        const s = await read();
        if (s?.wave !== 1) return false;
        const second = Object.values(s.members).filter((m) => m[0] === 1);
        const assigned = second.filter((m) => m[1] !== M.pending).length;
        return assigned > 0 && assigned < second.length;
      },
      { message: 'the second wave to be under way', timeoutMs: 20_000, intervalMs: 10 },
    );
    const shard = keyspace.shardOf('rollout/r9');
    const holder = (await readLeases(bus)).find((l) => l.shard === shard)?.node;
    const [victim, survivor] = holder === 'a' ? [a, b] : [b, a];
    await victim.kill('SIGKILL');
    // ~6 s alone (a lease, the victim's mail claimed after 5 s idle, ~180 edges at 40 a second);
    // a clean-clone CI run's Redis Cluster pass, two files at once, once took past 30 s: where the
    // rollout stood then (the API's summary: status, wave, each wave's counts) is in the error.
    const done = await waitFor(
      async () => {
        const s = await read();
        return s?.status === 'completed' ? s : undefined;
      },
      { message: 'the rollout to complete on the surviving node', timeoutMs: 60_000 },
    ).catch(async (error: Error) => {
      const warned = survivor.logs.filter((l) => Number(l.level) >= 40).slice(-5);
      throw new Error(
        `${error.message}; the rollout then: ${JSON.stringify(summaryOf(await read()))}; the survivor's last warnings: ${JSON.stringify(warned)}; its stderr: ${survivor.stderrTail().slice(-1000)}`,
        { cause: error },
      );
    });
    assert.equal(victim.child.signalCode, 'SIGKILL');
    assert.ok(
      (await readLeases(bus)).find((l) => l.shard === shard)?.node === survivor.nodeId,
      'the survivor holds the rollout',
    );
    const ids = Object.keys(done.members);
    assert.equal(ids.length, 200);
    for (const id of ids) {
      assert.equal(done.members[id]![1], M.healthy, `${id} healthy`);
      assert.equal(agents.of(id).length, 1, `${id} got exactly one update command`);
    }
  });
});
