import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLiveEntry, readDeadLetters } from '../bus/mod.ts';
import { waitFor } from '../infra/mod.ts';
import { FAST_HUB, useRedis } from '../infra/test-redis.ts';
import { createActorClient } from './client.ts';
import { defineActor } from './define.ts';
import { startHubNode } from './node/mod.ts';
import { nodeStatsToPrometheus } from './prometheus.ts';
import { readActorState } from './read-state.ts';
import { readNodeStats } from './stats.ts';
import { alarmClockActor, type CounterState, counterActor } from './testdata/actors.ts';

const t = useRedis();
const fast = FAST_HUB;

async function counterState(
  keyspace: ReturnType<typeof t.keyspace>,
  id: string,
): Promise<CounterState | undefined> {
  return (await readActorState<CounterState>(t.bus(keyspace), `counter/${id}`))?.state;
}

describe('hub node (in process, real Redis)', () => {
  it('lists only live nodes in the published stats once one stops (no ghosts on dashboards)', async () => {
    const keyspace = t.keyspace();
    const start = (nodeId: string) =>
      startHubNode({ bus: t.bus(keyspace, t.connect()), actors: [counterActor], nodeId, ...fast });
    await using _a = await start('a');
    const b = await start('b');
    await waitFor(async () => (await readNodeStats(t.bus(keyspace))).length === 2, {
      message: 'both nodes’ stats',
    });
    await b[Symbol.asyncDispose]();
    assert.deepEqual(
      (await readNodeStats(t.bus(keyspace))).map((s) => s.node),
      ['a'],
    );
    assert.deepEqual(
      (await readNodeStats(t.bus(keyspace), { departed: true })).map((s) => s.node),
      ['a', 'b'],
      'benchmarks still count what b handled',
    );
  });

  it('applies each actor’s messages one at a time, in order, across two nodes', async () => {
    const keyspace = t.keyspace();
    await using a = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [counterActor],
      nodeId: 'a',
      ...fast,
    });
    await using b = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [counterActor],
      nodeId: 'b',
      ...fast,
    });
    const client = createActorClient(t.bus(keyspace), counterActor);
    const actors = 40;
    const perActor = 30;
    for (let seq = 1; seq <= perActor; seq++) {
      await client.sendMany(
        Array.from({ length: actors }, (_, i) => ({ id: `c${i}`, method: 'add', payload: { seq } })),
      );
    }
    await waitFor(
      async () => {
        for (let i = 0; i < actors; i++)
          if ((await counterState(keyspace, `c${i}`))?.count !== perActor) return false;
        return true;
      },
      { message: 'every counter to reach 30' },
    );
    for (let i = 0; i < actors; i++) {
      const s = await counterState(keyspace, `c${i}`);
      assert.deepEqual(
        [s?.count, s?.lastSeq, s?.outOfOrder, s?.duplicates],
        [perActor, perActor, 0, 0],
        `counter c${i}`,
      );
    }
    // b joins the ring a placement tick after it starts: the shares settle then.
    await waitFor(() => a.ownedShards.length > 0 && b.ownedShards.length > 0, {
      message: 'both nodes own shards',
    });
    await waitFor(() => a.ownedShards.length + b.ownedShards.length === keyspace.shards, {
      message: 'every shard owned once',
    });
  });

  it('skips entries already reflected in the persisted state (no double application on redelivery)', async () => {
    const keyspace = t.keyspace();
    const client = createActorClient(t.bus(keyspace), counterActor);
    const ids = await client.sendMany([1, 2, 3].map((seq) => ({ id: 'x', method: 'add', payload: { seq } })));
    // As if a node had applied and committed the first two, then died before acknowledging.
    const shard = keyspace.shard(keyspace.shardOf('counter/x'));
    const applied: CounterState = {
      count: 2,
      lastSeq: 2,
      outOfOrder: 0,
      duplicates: 0,
      handledBy: ['earlier'],
    };
    await t.redis.hset(shard.state, 'counter/x', JSON.stringify({ id: ids[1], s: applied }));
    await using node = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [counterActor],
      ...fast,
    });
    await waitFor(async () => (await counterState(keyspace, 'x'))?.count === 3, { message: 'count 3' });
    const s = await counterState(keyspace, 'x');
    assert.equal(s?.duplicates, 0, 'the handler never saw an applied message again');
    assert.equal(node.stats().duplicatesSkipped, 2);
  });

  it('dead-letters a poison message with the reason and keeps the actor going', async () => {
    const keyspace = t.keyspace();
    await using node = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [counterActor],
      maxAttempts: 3,
      ...fast,
    });
    const client = createActorClient(t.bus(keyspace), counterActor);
    await client.send('p', 'flaky', { seq: 1, ok: true });
    await client.send('p', 'flaky', { seq: 2 });
    await client.send('p', 'flaky', { seq: 3, terminal: true });
    await client.send('p', 'flaky', { seq: 4, ok: true });
    await waitFor(async () => (await counterState(keyspace, 'p'))?.lastSeq === 4, {
      message: 'seq 4 applied',
    });
    // The letters are written and confirmed before the commit that checkpoints the state (also on
    // a Redis Cluster, where they live on another master): once seq 4 is read, both are there.
    const letters = await readDeadLetters(t.bus(keyspace));
    assert.equal(letters.length, 2);
    assert.match(letters[1]!.reason, /handler "flaky" failed: poisoned payload/);
    assert.match(letters[0]!.reason, /refused for good/);
    assert.equal(letters[1]!.address, 'counter/p');
    assert.equal(node.stats().deadLettered, 2);
    assert.equal((await counterState(keyspace, 'p'))?.count, 2);
  });

  it('dead-letters malformed stream entries instead of throwing', async () => {
    const keyspace = t.keyspace({ shards: 1 });
    await using node = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [counterActor],
      ...fast,
    });
    const mailbox = keyspace.shard(0).mailbox;
    await t.redis.xadd(mailbox, '*', 'a', 'counter/m', 'm', 'add', 'p', '{not json', 't', '1');
    await t.redis.xadd(mailbox, '*', 'garbage', 'yes');
    await t.redis.xadd(mailbox, '*', 'a', 'nosuchtype/1', 'm', 'add', 'p', '{}', 't', '1');
    await t.redis.xadd(mailbox, '*', 'a', 'counter/m', 'm', 'nosuchmethod', 'p', '{}', 't', '1');
    await createActorClient(t.bus(keyspace), counterActor).send('m', 'add', { seq: 1 });
    await waitFor(async () => (await counterState(keyspace, 'm'))?.count === 1, {
      message: 'the good message',
    });
    const reasons = (await readDeadLetters(t.bus(keyspace))).map((l) => l.reason).sort();
    assert.equal(reasons.length, 4);
    assert.match(reasons.join('\n'), /payload is not JSON/);
    assert.match(reasons.join('\n'), /missing or invalid actor address/);
    assert.match(reasons.join('\n'), /no actor type "nosuchtype"/);
    assert.match(reasons.join('\n'), /has no handler "nosuchmethod"/);
    assert.equal(node.stats().deadLettered, 4);
  });

  it('fires a durable timer once, and a cancelled one never', async () => {
    const keyspace = t.keyspace();
    await using _node = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [alarmClockActor],
      ...fast,
    });
    const client = createActorClient(t.bus(keyspace), alarmClockActor);
    await client.send('k1', 'arm', { delayMs: 200 });
    await client.send('k2', 'arm', { delayMs: 300 });
    await client.send('k2', 'disarm', null);
    const address = (id: string) => `clock/${id}`;
    const state = async (id: string) =>
      (await readActorState<{ rang: number; armed: number }>(t.bus(keyspace), address(id)))?.state;
    await waitFor(async () => (await state('k1'))?.rang === 1, { message: 'k1 to ring' });
    await waitFor(async () => (await state('k2'))?.armed === 1, { message: 'k2 armed' });
    // k2 was due 300 ms after arming; give it the same time k1 needed and more. Time passing is
    // the point: a cancelled timer that fired anyway would show in these 600 ms, nothing signals it.
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal((await state('k1'))?.rang, 1, 'k1 rang exactly once');
    assert.equal((await state('k2'))?.rang, 0, 'k2 was cancelled');
    assert.equal(await t.redis.zcard(keyspace.timers(keyspace.groupOf(keyspace.shardOf(address('k1'))))), 0);
  });

  it('keeps a timer’s data only when it has some, and fires one without data by its name', async () => {
    const keyspace = t.keyspace();
    type Bell = { rang: number; rangWith: unknown[] };
    const bell = defineActor({
      type: 'bell',
      initialState: (): Bell => ({ rang: 0, rangWith: [] }),
      handlers: {
        arm(state: Bell, payload: { delayMs: number; data?: unknown }, ctx): Bell {
          ctx.setTimer('ring', payload.delayMs, payload.data);
          return state;
        },
      },
      timers: {
        ring: (state: Bell, data: unknown): Bell => ({
          rang: state.rang + 1,
          rangWith: [...state.rangWith, data ?? null],
        }),
      },
    });
    await using _node = await startHubNode({ bus: t.bus(keyspace, t.connect()), actors: [bell], ...fast });
    const client = createActorClient(t.bus(keyspace), bell);
    const address = 'bell/b1';
    const group = keyspace.groupOf(keyspace.shardOf(address));
    const kept = () => t.redis.hlen(keyspace.timerData(group));
    const armed = async (n: number) => (await t.redis.zcard(keyspace.timers(group))) === n;

    const member = `${keyspace.shardOf(address)}|${address}|ring`;
    const due = async () => Number(await t.redis.zscore(keyspace.timers(group), member));
    // With data: the data hash keeps it until the timer fires.
    await client.send('b1', 'arm', { delayMs: 60_000, data: { floor: 7 } });
    await waitFor(async () => (await armed(1)) && (await kept()) === 1, {
      message: 'the timer and its data',
    });
    const first = await due();
    // Set again, sooner, without data: the timer moves, and the data the first setting kept goes.
    await client.send('b1', 'arm', { delayMs: 30_000 });
    await waitFor(async () => (await due()) < first - 20_000, { message: 'the timer set again' });
    assert.equal(await kept(), 0, 'a timer without data keeps nothing in the data hash');
    assert.equal(await armed(1), true);
    await client.send('b1', 'arm', { delayMs: 100 });
    const state = async () => (await readActorState<Bell>(t.bus(keyspace), address))?.state;
    await waitFor(async () => (await state())?.rang === 1, { message: 'the bell to ring' });
    assert.deepEqual((await state())?.rangWith, [null], 'rang by its name, not with the stale data');
    // And with data again: the handler gets it.
    await client.send('b1', 'arm', { delayMs: 100, data: { floor: 9 } });
    await waitFor(async () => (await state())?.rang === 2, { message: 'the bell to ring again' });
    assert.deepEqual((await state())?.rangWith, [null, { floor: 9 }]);
    assert.equal(await kept(), 0);
    assert.equal((await readDeadLetters(t.bus(keyspace))).length, 0, 'no timer dead-lettered');
  });

  it('hands a published event to the live stream without checkpointing its state; an emitted one to the outbox, checkpointing it', async () => {
    const keyspace = t.keyspace();
    const gauge = defineActor({
      type: 'gauge',
      initialState: () => ({ value: 0 }),
      handlers: {
        publish: (_s: { value: number }, value: number, ctx) => {
          ctx.publish({ type: 'gauge.value', value });
          return { value };
        },
        emit: (_s: { value: number }, value: number, ctx) => {
          ctx.emit({ type: 'gauge.value', value });
          return { value };
        },
      },
    });
    // A checkpoint interval far longer than the test: only an emit makes the state persist.
    await using _node = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [gauge],
      ...fast,
      checkpointMs: 600_000,
    });
    const client = createActorClient(t.bus(keyspace), gauge);
    const group = (id: string) => keyspace.groupOf(keyspace.shardOf(`gauge/${id}`));
    const outbox = async (id: string) =>
      (await t.redis.xrange(keyspace.outbox(group(id)), '-', '+'))
        .map(([, fields]) => JSON.parse(fields[1]!) as Record<string, unknown>)
        .filter((e) => e.address === `gauge/${id}`)
        .map((e) => e.value);
    const live = async (id: string) => {
      const entries = (await t.redis.xrange(keyspace.live(group(id)), '-', '+')).map(
        ([, f]) => parseLiveEntry(f)!,
      );
      return {
        numbers: entries.map((e) => e.n),
        values: entries
          .flatMap((e) => e.events as Record<string, unknown>[])
          .filter((e) => e.address === `gauge/${id}`)
          .map((e) => e.value),
      };
    };
    for (const value of [1, 2, 3]) await client.send('p', 'publish', value);
    await waitFor(async () => (await live('p')).values.length === 3, { message: 'three published events' });
    const published = await live('p');
    assert.deepEqual(published.values, [1, 2, 3], 'in order, once each');
    assert.deepEqual(
      published.numbers,
      published.numbers.map((_, i) => i + 1),
      'one live entry per commit, numbered from 1 without a gap',
    );
    assert.deepEqual(
      await outbox('p'),
      [],
      'not in the outbox: nothing delivers a latest value to the web backend',
    );
    assert.equal(await readActorState(t.bus(keyspace), 'gauge/p'), undefined, 'no checkpoint yet');
    await client.send('e', 'emit', 7);
    await waitFor(async () => (await outbox('e')).length === 1, { message: 'the emitted event' });
    assert.deepEqual(
      (await readActorState(t.bus(keyspace), 'gauge/e'))?.state,
      { value: 7 },
      'checkpointed with it',
    );
  });

  it('exports the backlog of its held shards and a turn latency histogram', async () => {
    const keyspace = t.keyspace({ shards: 2 });
    // A handler held until the test lets it go: the turn waits in it, what comes meanwhile waits.
    let entered = false;
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gate = defineActor({
      type: 'gate',
      initialState: () => ({ n: 0 }),
      handlers: {
        async pass(state: { n: number }, payload: { hold?: boolean }) {
          if (payload.hold) {
            entered = true;
            await held;
          }
          return { n: state.n + 1 };
        },
      },
    });
    await using node = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [gate],
      nodeId: 'g',
      ...fast,
      trimIntervalMs: 50,
    });
    const metric = (name: string) => {
      const line = nodeStatsToPrometheus(node.stats())
        .split('\n')
        .find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{node="g"} `));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const bus = t.bus(keyspace);
    const client = createActorClient(bus, gate);
    await client.send('a', 'pass', { hold: true });
    await waitFor(() => entered, { message: 'the first message in its handler' });
    const others = 9;
    await client.sendMany(
      Array.from({ length: others }, (_, i) => ({ id: `b${i}`, method: 'pass', payload: {} })),
    );
    const sentBy = Date.now();
    // One read and not acknowledged, nine not read: the trim's XINFO says ten.
    await waitFor(() => metric('devicehub_node_backlog_entries') === others + 1, {
      message: 'a backlog of 10',
    });
    // What a gateway's metrics read (backlog.lua, per tag group) says the same.
    const backlog = async () => (await bus.mailboxBacklog()).reduce((a, b) => a + b, 0);
    assert.equal(await backlog(), others + 1, 'the mailboxes backlog as a gateway reads it');
    const releasedAt = Date.now();
    release();
    await waitFor(() => node.stats().handled === others + 1, { message: 'all ten handled' });
    // Acknowledged with the next checkpoint: nothing waits any more.
    await waitFor(() => metric('devicehub_node_backlog_entries') === 0, { message: 'no backlog' });
    assert.equal(await backlog(), 0, 'none as a gateway reads it');
    const text = nodeStatsToPrometheus(node.stats());
    const buckets = [
      ...text.matchAll(/^devicehub_node_turn_latency_seconds_bucket\{node="g",le="([^"]+)"\} (\d+)$/gm),
    ].map((m) => [m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), Number(m[2])] as const);
    assert.equal(buckets.length, 23, 'every bound and +Inf');
    assert.deepEqual(buckets.at(-1), [Number.POSITIVE_INFINITY, others + 1]);
    assert.equal(metric('devicehub_node_turn_latency_seconds_count'), others + 1);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]![1] >= buckets[i - 1]![1], 'cumulative');
    // The nine were read by a turn that began after the release: none of them is under the wait.
    const waited = (releasedAt - sentBy) / 1000;
    for (const [le, n] of buckets) if (le < waited) assert.ok(n <= 1, `le=${le}: ${n} (waited ${waited} s)`);
    assert.ok((metric('devicehub_node_turn_latency_seconds_sum') ?? 0) >= others * waited);
  });

  it('hands every shard to the remaining node on graceful stop, without losing messages', async () => {
    const keyspace = t.keyspace();
    const a = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [counterActor],
      nodeId: 'a',
      ...fast,
    });
    await using b = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [counterActor],
      nodeId: 'b',
      ...fast,
    });
    const client = createActorClient(t.bus(keyspace), counterActor);
    let sent = 0;
    const sending = (async () => {
      for (let seq = 1; seq <= 40; seq++) {
        await client.sendMany(
          Array.from({ length: 20 }, (_, i) => ({ id: `h${i}`, method: 'add', payload: { seq } })),
        );
        sent = seq;
        // Time passing is the point: rounds paced like traffic, so a stops while they flow.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await waitFor(() => sent >= 10, { message: 'ten rounds sent before a stops' });
    await a.stop();
    await sending;
    await waitFor(() => b.ownedShards.length === keyspace.shards, { message: 'b to own every shard' });
    await waitFor(
      async () => {
        for (let i = 0; i < 20; i++) if ((await counterState(keyspace, `h${i}`))?.count !== 40) return false;
        return true;
      },
      { message: 'every counter to reach 40' },
    );
    for (let i = 0; i < 20; i++) {
      const s = await counterState(keyspace, `h${i}`);
      assert.equal(s?.outOfOrder, 0);
      assert.equal(s?.duplicates, 0);
    }
  });
});
