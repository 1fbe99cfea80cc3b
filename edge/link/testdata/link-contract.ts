/**
 * The contract every hub-side link keeps, as one suite run against each transport
 * (mqtt-link.test.ts, kafka-link.test.ts): what an edge sends reaches its actor, legacy JSON and
 * the compact format rebuild the same state, bad messages are dead-lettered with the reason and
 * the link keeps going, a message is acknowledged to the broker only once it is in Redis (kill
 * the link in between: it comes again), commands go back over the edge's own transport, and a
 * broker restart loses nothing an edge had been told was delivered.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActorClient } from '../../../actors/mod.ts';
import { type Keyspace, readDeadLetters } from '../../../bus/mod.ts';
import { spawnDevicehub, waitFor } from '../../../infra/mod.ts';
import type { TestRedis } from '../../../infra/test-redis.ts';
import { type EdgeState, edgeActor } from '../../actor/mod.ts';
import type { CompactMessage } from '../../protocol/compact.ts';
import type { DownlinkCommand, EdgeTransport } from '../../protocol/mod.ts';
import { birthOf, elevatorDay } from '../../sim/elevator-day.ts';
import { CompactEdge, LegacyEdge, type LegacyMessage } from '../../sim/workloads.ts';
import { DownlinkRelay, type DownlinkSender } from '../downlink-relay.ts';
import type { EdgeLink, IngestOptions } from '../ingest.ts';
import { provisionEdges, RedisEdgeRegistry } from '../registry.ts';

/** An edge as the test drives it, over the transport under test. */
export interface TestEdge extends AsyncDisposable {
  readonly id: string;
  /** Sends; resolves once the broker has acknowledged it (retrying through a broker restart). */
  compact(message: CompactMessage): Promise<void>;
  legacy(message: LegacyMessage): Promise<void>;
  /** Sends bytes as they are, as a compact message of `kind` or as legacy JSON. */
  raw(format: 'compact' | 'legacy', kind: CompactMessage['kind'], bytes: Uint8Array | string): Promise<void>;
  /** Commands received so far. */
  readonly commands: DownlinkCommand[];
}

export interface LinkHarness {
  readonly transport: EdgeTransport;
  /** Edge ids the broker knows (MQTT credentials); the suite uses them one per test. */
  readonly edgeIds: readonly string[];
  /** A link in this process, started. */
  link(options: IngestOptions): Promise<EdgeLink>;
  /** `devicehub link …` arguments and environment for a link process working in `keyspace`. */
  linkProcess(keyspace: Keyspace): { args: string[]; env: Record<string, string> };
  sender(): Promise<DownlinkSender>;
  edge(id: string): Promise<TestEdge>;
  restartBroker(): Promise<void>;
}

const BASE = Date.UTC(2026, 10, 24, 8);

type Harness = () => LinkHarness;

/** What an edge sends reaches its actor, which learns the transport. */
async function carriesMessages(t: TestRedis, h: Harness): Promise<void> {
  const ids = () => h().edgeIds;
  const keyspace = t.keyspace();
  const id = ids()[0]!;
  await using _node = await t.hub(keyspace);
  await using link = await h().link({ bus: t.bus(keyspace, t.connect()) });
  await using edge = await h().edge(id);
  const birth = birthOf(id);
  await edge.compact({ kind: 'birth', seq: 1, ts: 1, boot: 'b1', birth });
  await edge.compact({
    kind: 'status',
    seq: 2,
    ts: 2,
    snapshot: false,
    status: { floor: 4, door: 'open' },
  });
  await edge.compact({ kind: 'alarm', seq: 3, ts: 3, alarm: 'trapped', phase: 'start', floor: 4 });
  await waitFor(async () => (await t.edgeState(keyspace, id))?.seq.received === 3, {
    message: 'three messages applied',
  });
  const state = (await t.edgeState(keyspace, id))!;
  assert.deepEqual(state.shadow.birth, birth);
  assert.equal(state.shadow.status?.floor, 4);
  assert.ok(state.openAlarms.trapped);
  assert.deepEqual([state.seq.gaps, state.seq.duplicates], [0, 0]);
  assert.equal(state.transport, h().transport);
  assert.equal(link.stats.enqueued, 3);
}

/** Legacy JSON and the compact format rebuild the same state. */
async function sameStateFromBothFormats(t: TestRedis, h: Harness): Promise<void> {
  const ids = () => h().edgeIds;
  const keyspace = t.keyspace();
  const [legacyId, compactId] = [ids()[1]!, ids()[2]!];
  await using _node = await t.hub(keyspace);
  await using _link = await h().link({ bus: t.bus(keyspace, t.connect()) });
  await using legacyEdge = await h().edge(legacyId);
  await using compactEdge = await h().edge(compactId);
  const birth = birthOf('E-same');
  const legacy = new LegacyEdge(legacyId, birth);
  const compact = new CompactEdge(compactId, birth, { boot: 'b1' });
  await compactEdge.compact(compact.birth(BASE));
  // The first minute of a day, through to the compact side's second full snapshot.
  for (const second of elevatorDay(3, 300, 8 * 3600)) {
    const now = BASE + second.t * 1000;
    for (const m of legacy.second(second, now)) await legacyEdge.legacy(m);
    for (const m of compact.second(second, now).messages) await compactEdge.compact(m);
    if (second.t >= 8 * 3600 + 60) break;
  }
  const settled = async () => {
    const [a, b] = [await t.edgeState(keyspace, legacyId), await t.edgeState(keyspace, compactId)];
    return a?.updatedAt.status === BASE + (8 * 3600 + 60) * 1000 && b?.seq.received === compact.seq;
  };
  await waitFor(settled, { timeoutMs: 30_000, message: 'both edges’ minutes applied' });
  const [a, b] = [(await t.edgeState(keyspace, legacyId))!, (await t.edgeState(keyspace, compactId))!];
  assert.deepEqual(a.shadow.status, b.shadow.status);
  assert.deepEqual(a.shadow.birth, b.shadow.birth);
  assert.deepEqual(
    { ebike: false, doorBlocked: false, ...a.shadow.vision },
    { ebike: false, doorBlocked: false, ...b.shadow.vision },
  );
  assert.deepEqual(Object.keys(a.openAlarms), Object.keys(b.openAlarms));
}

/** Bad messages are dead-lettered with the reason, and the link keeps going. */
async function deadLettersBadMessages(t: TestRedis, h: Harness): Promise<void> {
  const ids = () => h().edgeIds;
  const keyspace = t.keyspace();
  const [known, stranger] = [ids()[3]!, ids()[4]!];
  await provisionEdges(t.bus(keyspace), [known]);
  await using registry = await new RedisEdgeRegistry({ bus: t.bus(keyspace) }).start();
  await using link = await h().link({ bus: t.bus(keyspace, t.connect()), registry });
  await using edge = await h().edge(known);
  await using other = await h().edge(stranger);
  await edge.raw('compact', 'status', 'not msgpack at all');
  await edge.raw('legacy', 'status', JSON.stringify({ msgType: 'heartbeat', pad: 'x'.repeat(20_000) }));
  await edge.raw('legacy', 'status', '{"msgType":');
  await other.compact({ kind: 'alarm', seq: 1, ts: 1, alarm: 'smoke', phase: 'start', floor: 1 });
  await edge.compact({ kind: 'status', seq: 1, ts: 1, snapshot: false, status: { floor: 2 } });
  await waitFor(() => link.stats.received === 5, { timeoutMs: 30_000, message: 'five messages taken' });
  await waitFor(() => link.stats.enqueued === 1, { message: 'the good one enqueued' });
  const letters = await readDeadLetters(t.bus(keyspace));
  const byCode = Object.fromEntries(letters.map((l) => [l.reason.split(':')[0], l]));
  assert.deepEqual(Object.keys(byCode).sort(), ['BAD_HEADER', 'NOT_JSON', 'TOO_LARGE', 'UNKNOWN_EDGE']);
  assert.equal(byCode.UNKNOWN_EDGE?.address, `edge/${stranger}`);
  assert.match(byCode.UNKNOWN_EDGE!.reason, new RegExp(`edge ${stranger} is not in the fleet`));
  assert.equal(byCode.TOO_LARGE?.address, `edge/${known}`);
  assert.deepEqual(link.stats.deadLettered, {
    BAD_HEADER: 1,
    NOT_JSON: 1,
    TOO_LARGE: 1,
    UNKNOWN_EDGE: 1,
  });
}

/** A message is acknowledged only once it is in Redis: kill the link in between and it comes again. */
async function redeliversAfterCrash(t: TestRedis, h: Harness): Promise<void> {
  const ids = () => h().edgeIds;
  const keyspace = t.keyspace();
  const id = ids()[5]!;
  await using _node = await t.hub(keyspace);
  const { args, env } = h().linkProcess(keyspace);
  const first = spawnDevicehub(args, { env: { ...env, DH_TEST_CRASH_BEFORE_ENQUEUE: '1' } });
  // Up, or already dead on an earlier message it was handed (Kafka: a new group reads from the start).
  await Promise.race([first.ready, first.exited]);
  await using edge = await h().edge(id);
  await edge.compact({ kind: 'alarm', seq: 1, ts: 1, alarm: 'smoke', phase: 'start', floor: 6 });
  assert.equal(await first.exited, 70, 'the link died after receiving, before enqueueing');
  assert.equal(await t.edgeState(keyspace, id), undefined, 'nothing reached the hub');
  await using second = spawnDevicehub(args, { env });
  await second.ready;
  await waitFor(async () => (await t.edgeState(keyspace, id))?.openAlarms.smoke !== undefined, {
    timeoutMs: 30_000,
    message: 'the broker to deliver the unacknowledged alarm to the restarted link',
  });
}

/** Commands go back over the edge's own transport, and their results come in. */
async function commandsOverOwnTransport(t: TestRedis, h: Harness): Promise<void> {
  const ids = () => h().edgeIds;
  const keyspace = t.keyspace();
  const id = ids()[6]!;
  await using _node = await t.hub(keyspace);
  await using _link = await h().link({ bus: t.bus(keyspace, t.connect()) });
  await using relay = await new DownlinkRelay({
    bus: t.bus(keyspace, t.connect()),
    sender: await h().sender(),
  }).start();
  await using edge = await h().edge(id);
  await edge.compact({ kind: 'birth', seq: 1, ts: 1, boot: 'b1', birth: birthOf(id) });
  await waitFor(async () => (await t.edgeState(keyspace, id))?.transport === h().transport, {
    message: 'the actor to know the edge’s transport',
  });
  await createActorClient(t.bus(keyspace), edgeActor).send(id, 'command', {
    id: 'c-1',
    type: 'echo',
    args: { hello: 'edge' },
    deadline: Date.now() + 20_000,
  });
  await waitFor(() => edge.commands.length === 1, {
    timeoutMs: 30_000,
    message: 'the command to arrive',
  });
  const command = edge.commands[0]!;
  assert.deepEqual([command.id, command.type, command.args], ['c-1', 'echo', { hello: 'edge' }]);
  assert.ok(command.epoch >= 1, 'it carries the owner’s fencing epoch');
  await edge.compact({ kind: 'result', seq: 2, ts: 2, id: 'c-1', ok: true, result: command.args });
  await waitFor(async () => (await t.edgeState(keyspace, id))?.commands?.['c-1']?.status === 'succeeded', {
    message: 'the result to reach the actor',
  });
  assert.equal(relay.stats.published, 1);
}

/** A broker restart loses nothing an edge had been told was delivered. */
async function survivesBrokerRestart(t: TestRedis, h: Harness): Promise<void> {
  const ids = () => h().edgeIds;
  const keyspace = t.keyspace();
  const id = ids()[7]!;
  await using _node = await t.hub(keyspace);
  await using _link = await h().link({ bus: t.bus(keyspace, t.connect()) });
  await using edge = await h().edge(id);
  const total = 30;
  let restart: Promise<void> | undefined;
  for (let seq = 1; seq <= total; seq++) {
    const phase = seq % 2 === 1 ? 'start' : 'end';
    await edge.compact({ kind: 'alarm', seq, ts: seq, alarm: 'trapped', phase, floor: 1 });
    if (seq === 10) restart = h().restartBroker();
  }
  await restart;
  await waitFor(async () => (await t.edgeState(keyspace, id))?.seq.received === total, {
    timeoutMs: 60_000,
    message: `all ${total} acknowledged alarms applied`,
    explain: async () => `the actor has ${JSON.stringify((await t.edgeState(keyspace, id))?.seq)}`,
  });
  const state: EdgeState = (await t.edgeState(keyspace, id))!;
  assert.equal(state.seq.gaps, 0);
  assert.equal(state.alarmsRaised, total / 2);
}

export function linkContract(t: TestRedis, harness: () => LinkHarness): void {
  const h = () => harness();

  describe('link contract', { timeout: 120_000 }, () => {
    it('carries an edge’s messages into its actor, which learns the transport', () => carriesMessages(t, h));
    it('rebuilds the same state from legacy JSON as from the compact format', () =>
      sameStateFromBothFormats(t, h));
    it('dead-letters malformed, oversized and unknown-edge messages with the reason, and keeps going', () =>
      deadLettersBadMessages(t, h));
    it('delivers a message again when its link process died between receiving and enqueueing it', () =>
      redeliversAfterCrash(t, h));
    it('sends commands over the edge’s own transport and takes their results', () =>
      commandsOverOwnTransport(t, h));
    it('loses nothing an edge was told was delivered when the broker restarts', () =>
      survivesBrokerRestart(t, h));
  });
}
