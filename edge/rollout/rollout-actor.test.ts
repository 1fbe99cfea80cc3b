import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActorClient, readActorState } from '../../actors/mod.ts';
import { readDeadLetters } from '../../bus/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { edgeActor } from '../actor/mod.ts';
import type { UpdateTarget } from '../protocol/mod.ts';
import { M } from './members.ts';
import { rolloutActor } from './rollout-actor.ts';
import type { RolloutMember, RolloutSpec, WaveSpec } from './spec.ts';
import type { RolloutState } from './state.ts';
import { type Answer, FakeAgents } from './testdata/fake-agents.ts';

const t = useRedis();

const TARGET: UpdateTarget = {
  path: 'edge-package/elenet/2.0.0/elenet.tar',
  name: 'elenet',
  version: '2.0.0',
  kind: 'edge-package',
  sha256: 'a'.repeat(64),
  length: 5_000_000,
};

const waves = (holdMs: number): WaveSpec[] => [
  { name: 'canary', percent: 5, successPercent: 100, holdMs },
  { name: 'forty', percent: 40, successPercent: 90, holdMs },
  { name: 'all', percent: 100, successPercent: 90, holdMs },
];

function specOf(over: Partial<RolloutSpec> = {}): RolloutSpec {
  return {
    target: { kind: 'packages', targets: [TARGET] },
    waves: waves(200),
    ratePerMinute: 60_000,
    tickMs: 100,
    spreadMs: 0,
    ...over,
  };
}

const membersOf = (n: number): RolloutMember[] =>
  Array.from({ length: n }, (_, i) => ({
    edgeId: `E-${String(i).padStart(4, '0')}`,
    timeZone: 'Asia/Shanghai',
  }));

/** A hub node, the agents and clients in a fresh keyspace. */
async function setUp(policy: (edgeId: string, wave: () => number) => Answer) {
  const keyspace = t.keyspace();
  const bus = t.bus(keyspace);
  const node = await t.hub(keyspace);
  const rollouts = createActorClient(bus, rolloutActor);
  const read = async (id: string) => (await readActorState<RolloutState>(bus, `rollout/${id}`))?.state;
  let current: RolloutState | undefined;
  const agents = new FakeAgents(t.bus(keyspace, t.connect()), (edgeId) =>
    policy(edgeId, () => current?.members[edgeId]?.[0] ?? -1),
  );
  const until = async (id: string, ok: (s: RolloutState) => boolean, message: string, timeoutMs = 15_000) =>
    waitFor(
      async () => {
        current = await read(id);
        return current !== undefined && ok(current) ? current : undefined;
      },
      { message, timeoutMs },
    );
  return {
    keyspace,
    bus,
    rollouts,
    agents,
    until,
    async [Symbol.asyncDispose]() {
      await agents[Symbol.asyncDispose]();
      await node.stop();
    },
  };
}

describe('rollout actor (real Redis, a real hub node, edge actors, agents answering through them)', () => {
  it('takes 200 edges through three waves, one update command each, wave after wave', async () => {
    await using s = await setUp(() => 'healthy');
    await s.rollouts.send('r1', 'create', { spec: specOf(), members: membersOf(200), by: 'test' });
    await s.rollouts.send('r1', 'create', { spec: specOf(), members: membersOf(200) }); // repeated: nothing new
    const done = await s.until('r1', (r) => r.status === 'completed', 'the rollout to complete');
    const ids = Object.keys(done.members);
    assert.equal(ids.length, 200);
    assert.ok(ids.every((id) => done.members[id]![1] === M.healthy));
    for (const id of ids) assert.equal(s.agents.of(id).length, 1, `${id} got one update command`);
    const orderOfWave = (w: number) =>
      s.agents.commands.filter((c) => done.members[c.edgeId]![0] === w).map((c) => c.order);
    for (const w of [0, 1]) {
      assert.ok(orderOfWave(w).length > 0, `wave ${w} has members`);
      assert.ok(
        Math.max(...orderOfWave(w)) < Math.min(...orderOfWave(w + 1)),
        `wave ${w} before wave ${w + 1}`,
      );
    }
    const edge = await t.edgeState(s.keyspace, ids[0]!);
    assert.equal(edge?.updates?.installed?.elenet?.version, '2.0.0');
    assert.deepEqual(
      edge?.updates?.history?.map((h) => h.state),
      ['downloading', 'verified', 'installing', 'healthy'],
    );
    // A report for a rollout the edge is not in is dead-lettered.
    await createActorClient(s.bus, edgeActor).send(ids[0]!, 'updateState', {
      rollout: 'other',
      target: TARGET.path,
      name: 'elenet',
      version: '3.0.0',
      state: 'healthy',
    });
    const letter = await waitFor(
      async () => (await readDeadLetters(s.bus)).find((l) => l.address === `edge/${ids[0]}`),
      { message: 'the dead letter' },
    );
    assert.match(letter.reason, /not in rollout "other"/);
  });

  it('pauses on its error threshold before the next wave starts', async () => {
    // Every fourth edge of the second wave fails.
    let n = 0;
    await using s = await setUp((_, wave) => (wave() === 1 && n++ % 4 === 0 ? 'failed' : 'healthy'));
    await s.rollouts.send('r2', 'create', {
      spec: specOf({ errorThreshold: { count: 3 } }),
      members: membersOf(200),
    });
    const paused = await s.until('r2', (r) => r.status === 'paused', 'the rollout to pause');
    assert.match(paused.reason ?? '', /error threshold: \d+ edges failed \(threshold 3\)/);
    // Let every assigned edge finish: still no edge of the third wave was started.
    const settled = await s.until(
      'r2',
      (r) => Object.values(r.members).every((m) => m[1] === M.pending || m[1] >= M.healthy),
      'the in-flight edges to finish',
    );
    const third = Object.keys(settled.members).filter((id) => settled.members[id]![0] === 2);
    assert.ok(third.length > 50);
    assert.equal(third.filter((id) => s.agents.of(id).length > 0).length, 0, 'no third-wave edge started');
    assert.equal(settled.wave, 1);
  });

  it('pauses when the updated edges raise alarms measurably more than those not yet updated', async () => {
    await using s = await setUp(() => 'healthy');
    const spec = specOf({
      waves: [
        { name: 'canary', percent: 10, successPercent: 100, holdMs: 60_000 },
        { name: 'all', percent: 100, successPercent: 90, holdMs: 0 },
      ],
      health: { alpha: 0.01, minEvents: 5, minRatio: 1.5 },
    });
    await s.rollouts.send('r3', 'create', { spec, members: membersOf(200) });
    const holding = await s.until('r3', (r) => r.waveDoneAt > 0, 'the canary wave to hold');
    const ids = Object.keys(holding.members);
    const canary = ids.filter((id) => holding.members[id]![1] === M.healthy).slice(0, 4);
    const control = ids.filter((id) => holding.members[id]![1] === M.pending).slice(0, 2);
    const edges = createActorClient(s.bus, edgeActor);
    const alarm = (id: string, k: number) => ({
      id,
      method: 'alarm' as const,
      payload: { alarm: `a${k}`, phase: 'start' as const },
    });
    await edges.sendMany([
      ...canary.flatMap((id) => [1, 2, 3].map((k) => alarm(id, k))),
      ...control.map((id) => alarm(id, 1)),
    ]);
    const paused = await s.until('r3', (r) => r.status === 'paused', 'the health comparison to pause it');
    assert.match(paused.reason ?? '', /health comparison: updated edges 12 events/);
    assert.equal(paused.healthTest?.controlEvents, 2);
    assert.ok((paused.healthTest?.pValue ?? 1) < 0.01);
    assert.equal(paused.wave, 0, 'the second wave never started');
  });

  it('assigns a silent edge again after its timeout, then counts it as timed out', async () => {
    const seen = new Map<string, number>();
    await using s = await setUp((edgeId) => {
      const n = (seen.get(edgeId) ?? 0) + 1;
      seen.set(edgeId, n);
      if (edgeId === 'E-0005') return 'silent'; // never answers
      return edgeId < 'E-0005' && n === 1 ? 'silent' : 'healthy'; // answers the second time
    });
    const spec = specOf({
      waves: [{ name: 'all', percent: 100, successPercent: 90, holdMs: 0 }],
      edgeTimeoutMs: 2000, // well past an answer's round trip (under a second) on a busy machine
      retries: 1,
    });
    await s.rollouts.send('r5', 'create', { spec, members: membersOf(20) });
    const done = await s.until('r5', (r) => r.status === 'completed', 'the rollout to complete');
    assert.deepEqual(
      s.agents.of('E-0001').map((c) => c.id),
      ['upd-r5-1', 'upd-r5-2'],
    );
    assert.equal(done.members['E-0001']![1], M.healthy);
    assert.equal(s.agents.of('E-0005').length, 2, 'one retry');
    assert.equal(done.members['E-0005']![1], M.timedOut);
    assert.equal(s.agents.of('E-0010').length, 1);
  });

  it('rolls back: every updated edge gets a roll-back assignment and the rollout ends rolled back', async () => {
    await using s = await setUp(() => 'healthy');
    const spec = specOf({ waves: [{ name: 'all', percent: 100, successPercent: 90, holdMs: 0 }] });
    await s.rollouts.send('r4', 'create', { spec, members: membersOf(40) });
    await s.until('r4', (r) => r.status === 'completed', 'the rollout to complete');
    await s.rollouts.send('r4', 'rollback', { by: 'ops', reason: 'bad build' });
    const back = await s.until('r4', (r) => r.status === 'rolled_back', 'the roll back to finish');
    assert.match(back.reason ?? '', /rolled back by ops: bad build/);
    for (const id of Object.keys(back.members)) {
      assert.equal(back.members[id]![1], M.reverted);
      assert.deepEqual(
        s.agents.of(id).map((c) => c.args.rollback === true),
        [false, true],
      );
    }
  });
});
