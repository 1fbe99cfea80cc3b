/**
 * Fault tests with hub nodes as real child processes: kill -9 mid-stream, a rolling restart,
 * SIGSTOP past the lease, a node joining, a timer whose node died, a message that kills its
 * nodes. Redis's own faults are in redis-faults.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Keyspace, readDeadLetters } from '../bus/mod.ts';
import { type HubProcess, waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { createActorClient } from './client.ts';
import { readLeases } from './leases.ts';
import { HashRing } from './ring.ts';
import {
  type AlarmClockState,
  alarmClockActor,
  type CounterState,
  counterActor,
  TEST_ACTORS_MODULE,
} from './testdata/actors.ts';
import { actorState, countersReach, sendRound } from './testdata/counter-rounds.ts';

const t = useRedis();

const spawn = (keyspace: Keyspace, nodeId: string): HubProcess =>
  t.hubProcess(keyspace, nodeId, TEST_ACTORS_MODULE);

const stateOf = <S>(keyspace: Keyspace, address: string) => actorState<S>(t, keyspace, address);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('hub nodes as processes', { timeout: 180_000 }, () => {
  it('loses nothing and applies nothing twice when a node is kill -9ed mid-stream', async () => {
    const keyspace = t.keyspace();
    await using a = spawn(keyspace, 'a');
    await using b = spawn(keyspace, 'b');
    await Promise.all([a.ready, b.ready]);
    const client = createActorClient(t.bus(keyspace), counterActor);
    const actors = 50;
    const rounds = 60;
    for (let seq = 1; seq <= rounds; seq++) {
      await sendRound(client, { prefix: 'k', actors, seq });
      if (seq === 20) await a.kill('SIGKILL');
      await sleep(20); // time passing is the point: a stream paced like traffic, so the kill lands mid-stream
    }
    const counters = await countersReach(t, keyspace, {
      prefix: 'k',
      actors,
      rounds: rounds,
      timeoutMs: 20_000,
    });
    for (const [i, s] of counters.entries()) {
      assert.deepEqual(
        [s.count, s.lastSeq, s.outOfOrder, s.duplicates],
        [rounds, rounds, 0, 0],
        `counter k${i}`,
      );
    }
    const takeover = b.logs.find((l) => l.msg === 'shards acquired' && Number(l.takenOver) > 0);
    assert.ok(takeover, 'b took a’s shards over from an expired lease and replayed what a left pending');
    assert.equal(a.child.signalCode, 'SIGKILL');
  });

  it('loses and repeats nothing through a rolling restart of every node, one by one', async () => {
    const keyspace = t.keyspace();
    const ids = ['a', 'b', 'c'];
    const nodes = new Map(ids.map((id) => [id, spawn(keyspace, id)]));
    await Promise.all([...nodes.values()].map((n) => n.ready));
    const client = createActorClient(t.bus(keyspace), counterActor);
    const actors = 30;
    let seq = 0;
    let sending = true;
    const sender = (async () => {
      while (sending) {
        await sendRound(client, { prefix: 'rr', actors, seq: ++seq });
        await sleep(25); // time passing is the point: traffic paced like a device fleet's, through the restarts
      }
    })();
    try {
      // Traffic flows on each topology before the next node restarts: ten more rounds sent.
      const rounds = async (n: number) => {
        const from = seq;
        await waitFor(() => seq >= from + n, { message: `${n} more rounds sent` });
      };
      for (const id of ids) {
        await rounds(10);
        await nodes.get(id)!.stop(); // SIGTERM: hands its shards off
        const restarted = spawn(keyspace, id);
        nodes.set(id, restarted);
        await restarted.ready;
      }
      await rounds(10);
    } finally {
      sending = false;
      await sender;
    }
    try {
      const counters = await countersReach(t, keyspace, {
        prefix: 'rr',
        actors,
        rounds: seq,
        timeoutMs: 20_000,
      });
      for (const [i, s] of counters.entries()) {
        assert.deepEqual([s.count, s.outOfOrder, s.duplicates], [seq, 0, 0], `counter rr${i}`);
      }
      const handlers = new Set(counters.flatMap((s) => s.handledBy));
      assert.ok(handlers.size >= 4, `the restarted processes took over (${handlers.size} handled)`);
    } finally {
      await Promise.all([...nodes.values()].map((n) => n.stop()));
    }
  });

  it('fences a node paused past its lease: its late commit is refused', async () => {
    const keyspace = t.keyspace();
    await using a = spawn(keyspace, 'a');
    await a.ready;
    const client = createActorClient(t.bus(keyspace), counterActor);
    await client.send('f', 'slowAdd', { seq: 1, ms: 1500 });
    await waitFor(() => a.logs.some((l) => l.msg === 'slowAdd started'), {
      message: 'a to start the slow turn',
    });
    a.child.kill('SIGSTOP');
    await using b = spawn(keyspace, 'b');
    await b.ready;
    await waitFor(() => b.logs.some((l) => l.msg === 'shards acquired' && Number(l.takenOver) > 0), {
      message: 'b to take over the expired leases',
    });
    await client.send('f', 'add', { seq: 2 });
    await waitFor(async () => (await stateOf<CounterState>(keyspace, 'counter/f'))?.count === 2, {
      timeoutMs: 15_000,
      message: 'b to apply both messages',
    });
    a.child.kill('SIGCONT');
    // a wakes with an applied-but-uncommitted message: its commit is refused, or its tick sees
    // the lease gone first; either way it drops the shard without writing.
    await waitFor(
      () =>
        a.logs.some(
          (l) =>
            l.msg === 'commit fenced: lease lost; dropping the shard' ||
            l.msg === 'lease lost; dropping the shard',
        ),
      { message: 'a to find itself fenced' },
    );
    // Time passing is the point: nothing signals a write that must not happen; a late commit of a's
    // gets 300 ms to land (and would show in handledBy) before the state is read.
    await sleep(300);
    const s = (await stateOf<CounterState>(keyspace, 'counter/f'))!;
    assert.deepEqual([s.count, s.lastSeq, s.duplicates, s.outOfOrder], [2, 2, 0, 0]);
    assert.deepEqual(s.handledBy, [String(b.child.pid)], 'only b’s writes landed');
  });

  it('moves only the new node’s share of shards when a node joins', async () => {
    const keyspace = t.keyspace();
    await using a = spawn(keyspace, 'a');
    await using b = spawn(keyspace, 'b');
    await Promise.all([a.ready, b.ready]);
    const settled = async (nodes: string[]) => {
      const ring = new HashRing(nodes);
      const leases = await readLeases(t.bus(keyspace));
      return leases.every((l) => l.node === ring.ownerOf(l.shard)) ? leases : undefined;
    };
    const before = await waitFor(() => settled(['a', 'b']), { message: 'a and b to split the shards' });
    await using c = spawn(keyspace, 'c');
    await c.ready;
    const afterJoin = await waitFor(() => settled(['a', 'b', 'c']), { message: 'c to take its share' });
    const moved = afterJoin.filter((l, i) => l.node !== before[i]!.node);
    assert.ok(moved.length > 0);
    assert.ok(
      moved.every((l) => l.node === 'c'),
      'every shard that moved went to the new node',
    );
    assert.equal(moved.length, afterJoin.filter((l) => l.node === 'c').length);
    const fraction = moved.length / keyspace.shards;
    assert.ok(fraction > 0.15 && fraction < 0.5, `moved ${fraction} of the shards, expected about 1/3`);
  });

  it('fires a durable timer after the node that armed it died, once the next node starts', async () => {
    const keyspace = t.keyspace();
    const a = spawn(keyspace, 'a');
    await a.ready;
    const armedAt = Date.now();
    await createActorClient(t.bus(keyspace), alarmClockActor).send('t1', 'arm', { delayMs: 1200 });
    await waitFor(async () => (await stateOf<AlarmClockState>(keyspace, 'clock/t1'))?.armed === 1, {
      message: 'armed',
    });
    await a.kill('SIGKILL');
    // The timer falls due while no node is running at all: time passing is the point.
    await sleep(1500);
    assert.equal((await stateOf<AlarmClockState>(keyspace, 'clock/t1'))?.rang, 0);
    await using b = spawn(keyspace, 'b');
    await b.ready;
    await waitFor(async () => (await stateOf<AlarmClockState>(keyspace, 'clock/t1'))?.rang === 1, {
      message: 'the timer to fire on b',
    });
    const s = (await stateOf<AlarmClockState>(keyspace, 'clock/t1'))!;
    assert.equal(s.armedBy, a.child.pid);
    assert.ok(s.rangAt! >= armedAt + 1200, 'not before it was due');
    await sleep(300); // time passing is the point: a second firing would have 300 ms to show
    assert.equal((await stateOf<AlarmClockState>(keyspace, 'clock/t1'))?.rang, 1, 'fired once');
  });

  it('dead-letters a message that kills the nodes handling it, and only that message', async () => {
    const keyspace = t.keyspace();
    const client = createActorClient(t.bus(keyspace), counterActor);
    await client.send('z', 'add', { seq: 1 });
    await client.send('z', 'crash', null);
    await client.send('z', 'add', { seq: 2 });
    const killed: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const node = spawn(keyspace, `crash-${attempt}`);
      const outcome = await Promise.race([
        node.exited.then(() => 'died' as const),
        waitFor(async () => (await readDeadLetters(t.bus(keyspace))).length > 0, {
          timeoutMs: 15_000,
        }).then(() => 'dead-lettered' as const),
      ]);
      if (outcome === 'died') {
        killed.push(attempt);
        continue;
      }
      await waitFor(async () => (await stateOf<CounterState>(keyspace, 'counter/z'))?.count === 2, {
        message: 'the actor to go on',
      });
      await node.kill('SIGKILL');
      break;
    }
    assert.deepEqual(
      killed,
      [1, 2, 3],
      'three nodes died on it (the third handling it alone), the fourth dead-lettered it',
    );
    const [letter] = await readDeadLetters(t.bus(keyspace));
    assert.equal(letter?.method, 'crash');
    assert.match(letter!.reason, /a hub node died while handling it \(delivered 4 times\)/);
    const s = (await stateOf<CounterState>(keyspace, 'counter/z'))!;
    assert.deepEqual([s.count, s.lastSeq, s.duplicates], [2, 2, 0]);
  });
});
