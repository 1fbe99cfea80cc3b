import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ActorContext,
  createActorClient,
  type Logger,
  type OutboxEvent,
  readActorState,
  silentLogger,
  startHubNode,
  TerminalError,
} from '../../actors/mod.ts';
import { parseLiveEntry } from '../../bus/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { FAST_HUB, useRedis } from '../../infra/test-redis.ts';
import { createEdgeActor, edgeActor } from './edge-actor.ts';
import type { EdgeState } from './state.ts';

/** A context that records what a handler asked for. */
function recorder(now: number) {
  const timers = new Map<string, number | null>();
  const events: OutboxEvent[] = [];
  const ctx: ActorContext = {
    address: 'edge/E-1',
    id: 'E-1',
    messageId: '1-0',
    enqueuedAt: now,
    now,
    epoch: 1,
    log: silentLogger,
    setTimer: (name, delayMs) => void timers.set(name, delayMs),
    cancelTimer: (name) => void timers.set(name, null),
    emit: (event) => void events.push(event),
    publish: (event) => void events.push(event),
    send: (to, method, payload) => void events.push({ type: 'actor.mail', to, method, payload }),
  };
  return { ctx, timers, events };
}

const { telemetry, alarm } = edgeActor.handlers;

/** A logger that keeps every line with its bindings, as pino would write them. */
function captureLogger(lines: Record<string, unknown>[], bindings: object = {}): Logger {
  const write = (level: string) => (obj: object, msg?: string) =>
    void lines.push({ level, ...bindings, ...obj, msg });
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => captureLogger(lines, { ...bindings, ...more }),
  };
}
const fresh = (): EdgeState => edgeActor.initialState('E-1');

describe('edge actor', () => {
  it('merges telemetry into the shadow, goes online once and arms the offline timer', () => {
    const a = recorder(1000);
    let s = telemetry(fresh(), { kind: 'status', seq: 1, ts: 990, data: { floor: 3, door: 'open' } }, a.ctx);
    assert.deepEqual(s.shadow.status, { floor: 3, door: 'open' });
    assert.equal(s.online, true);
    assert.equal(s.lastSeen, 1000);
    // The tile a wall screen shows changed too (tile.ts).
    assert.deepEqual(
      a.events.map((e) => e.type),
      ['edge.online', 'edge.tile'],
    );
    assert.equal(a.timers.get('offline'), 30_000);
    const b = recorder(2000);
    s = telemetry(s, { kind: 'status', seq: 2, data: { door: 'closed' } }, b.ctx);
    assert.deepEqual(s.shadow.status, { floor: 3, door: 'closed' }, 'fields not sent are kept');
    assert.deepEqual(
      b.events.map((e) => e.type),
      ['edge.tile'],
      'already online (the door changed on the tile)',
    );
    assert.equal(b.timers.size, 0, 'the timer is not re-armed on every message');
  });

  it('ignores repeated sequence numbers, counts gaps, and starts over on a new boot', () => {
    const { ctx } = recorder(1000);
    let s = telemetry(fresh(), { kind: 'heartbeat', seq: 1, boot: 'a' }, ctx);
    s = telemetry(s, { kind: 'heartbeat', seq: 1, boot: 'a' }, ctx);
    s = telemetry(s, { kind: 'heartbeat', seq: 4, boot: 'a' }, ctx);
    assert.deepEqual(s.seq, { boot: 'a', last: 4, window: 0b100, received: 2, gaps: 2, duplicates: 1 });
    s = telemetry(s, { kind: 'heartbeat', seq: 1, boot: 'b' }, ctx);
    assert.deepEqual(s.seq, { boot: 'b', last: 1, window: 0, received: 3, gaps: 2, duplicates: 1 });
  });

  it('gives a quiet edge the silence its birth announced before it counts as offline', () => {
    const first = recorder(1000);
    const born = telemetry(
      fresh(),
      { kind: 'birth', seq: 1, boot: 'a', silenceSeconds: 60, data: { model: 'M' } },
      first.ctx,
    );
    assert.equal(born.offlineAfterMs, 150_000);
    assert.equal(first.timers.get('offline'), 150_000);
    const later = recorder(1000 + 100_000);
    const still = edgeActor.timers!.offline(born, undefined, later.ctx);
    assert.equal(still?.online, true, '100 s of silence is normal for it');
    const legacy = telemetry(fresh(), { kind: 'heartbeat', data: { cpuPercent: 1 } }, recorder(1000).ctx);
    assert.equal(
      edgeActor.timers!.offline(legacy, undefined, later.ctx)?.online,
      false,
      'a legacy edge: 30 s',
    );
  });

  it('takes a late message once without laying it over newer values', () => {
    const { ctx } = recorder(1000);
    let s = telemetry(fresh(), { kind: 'status', seq: 1, boot: 'a', ts: 1, data: { floor: 1 } }, ctx);
    s = telemetry(s, { kind: 'status', seq: 3, boot: 'a', ts: 3, data: { floor: 3 } }, ctx);
    assert.equal(s.seq.gaps, 1);
    s = telemetry(s, { kind: 'status', seq: 2, boot: 'a', ts: 2, data: { floor: 2 } }, ctx);
    assert.deepEqual(s.seq, { boot: 'a', last: 3, window: 0b11, received: 3, gaps: 0, duplicates: 0 });
    assert.equal(s.shadow.status?.floor, 3, 'the late status did not overwrite the newer one');
    s = telemetry(s, { kind: 'status', seq: 2, boot: 'a', ts: 2, data: { floor: 2 } }, ctx);
    assert.equal(s.seq.duplicates, 1, 'the same late message again is a duplicate');
    s = telemetry(s, { kind: 'status', seq: 40, boot: 'a', ts: 40, data: { floor: 4 } }, ctx);
    s = telemetry(s, { kind: 'status', seq: 5, boot: 'a', ts: 5, data: { floor: 5 } }, ctx);
    assert.equal(s.seq.duplicates, 2, 'too far behind to tell: counted as a duplicate');
    assert.equal(s.seq.received, 4);
  });

  it('refuses malformed telemetry and alarms for good', () => {
    const { ctx } = recorder(1000);
    assert.throws(() => telemetry(fresh(), { kind: 'nope' } as never, ctx), TerminalError);
    assert.throws(
      () => telemetry(fresh(), { kind: 'status', data: [1] } as never, ctx),
      /data must be an object/,
    );
    assert.throws(() => alarm(fresh(), { alarm: '', phase: 'start' }, ctx), TerminalError);
    assert.throws(() => alarm(fresh(), { alarm: 'smoke', phase: 'maybe' } as never, ctx), /phase/);
  });

  it('records alarms and hands their start and end to the outbox', () => {
    const a = recorder(1000);
    let s = alarm(fresh(), { alarm: 'trapped', phase: 'start', ts: 995, data: { floor: 7 } }, a.ctx);
    s = alarm(s, { alarm: 'trapped', phase: 'start', ts: 996 }, a.ctx);
    assert.deepEqual(s.openAlarms, { trapped: { since: 995, data: { floor: 7 } } });
    assert.equal(s.alarmsRaised, 1);
    const b = recorder(5000);
    s = alarm(s, { alarm: 'trapped', phase: 'end', ts: 4990 }, b.ctx);
    assert.deepEqual(s.openAlarms, {});
    assert.deepEqual(
      [...a.events, ...b.events].map((e) => [e.type, e.alarm ?? null, e.since ?? null]),
      [
        ['edge.online', null, null],
        ['alarm.start', 'trapped', null],
        ['alarm.end', 'trapped', 995],
      ],
    );
  });

  it("runs a tunnel: open command, open on the edge's answer, closed on request, expiry by timer", () => {
    const { tunnelOpen, tunnelClose, commandResult } = edgeActor.handlers;
    const services = [{ name: 'ssh', remotePort: 7001 }];
    const a = recorder(1000);
    let s = tunnelOpen(
      fresh(),
      { id: 'T-1', services, expiresAt: 61_000, args: { server: 'frps:7000' } },
      a.ctx,
    )!;
    assert.equal(s.tunnels?.['T-1']?.state, 'requested');
    assert.deepEqual(
      a.events.map((e) => [e.type, e.command, e.id]),
      [['command', 'tunnel.open', 'T-1.open']],
    );
    assert.deepEqual(a.events[0]!.args, {
      server: 'frps:7000',
      tunnelId: 'T-1',
      services,
      expiresAt: 61_000,
    });
    assert.equal(a.timers.get('tunnels'), 60_000, 'expiry armed');
    assert.equal(
      tunnelOpen(s, { id: 'T-1', services, expiresAt: 61_000 }, a.ctx),
      undefined,
      'repeated: ignored',
    );

    const b = recorder(2000);
    s = commandResult(s, { id: 'T-1.open', ok: true, result: { proxies: ['ssh'] } }, b.ctx)!;
    assert.equal(s.tunnels?.['T-1']?.state, 'open');
    assert.deepEqual(
      b.events.map((e) => [e.type, e.state ?? null]),
      [
        ['command.result', null],
        ['tunnel.state', 'open'],
      ],
    );
    const c = recorder(3000);
    s = tunnelClose(s, { id: 'T-1' }, c.ctx)!;
    assert.equal(s.tunnels?.['T-1']?.state, 'closed');
    assert.deepEqual(
      c.events.map((e) => [e.type, e.state ?? e.command]),
      [
        ['tunnel.state', 'closed'],
        ['command', 'tunnel.close'],
      ],
    );
    assert.equal(c.timers.get('tunnels'), null, 'nothing left to expire');
    assert.equal(tunnelClose(s, { id: 'T-1' }, c.ctx), undefined, 'closing twice: nothing to do');

    // Another tunnel runs out of time: the durable timer expires it and tells the edge.
    const d = recorder(4000);
    s = tunnelOpen(s, { id: 'T-2', services, expiresAt: 9000 }, d.ctx)!;
    const e = recorder(9000);
    s = edgeActor.timers!.tunnels(s, undefined, e.ctx)!;
    assert.equal(s.tunnels?.['T-2']?.state, 'expired');
    assert.deepEqual(
      e.events.map((x) => [x.type, x.state ?? x.command]),
      [
        ['tunnel.state', 'expired'],
        ['command', 'tunnel.close'],
      ],
    );
    assert.throws(
      () => tunnelOpen(fresh(), { id: 'T 3', services, expiresAt: 1 }, a.ctx),
      /tunnelOpen: id must be/,
    );
  });

  it('fails a tunnel whose edge refuses it or never answers', () => {
    const { tunnelOpen, commandResult } = edgeActor.handlers;
    const services = [{ name: 'camera', remotePort: 7002 }];
    const a = recorder(1000);
    let s = tunnelOpen(fresh(), { id: 'T-1', services, expiresAt: 600_000 }, a.ctx)!;
    s = tunnelOpen(s, { id: 'T-2', services, expiresAt: 600_000, openTimeoutMs: 5000 }, a.ctx)!;
    const b = recorder(2000);
    s = commandResult(s, { id: 'T-1.open', ok: false, error: 'frpc: login failed' }, b.ctx)!;
    assert.deepEqual(
      [s.tunnels?.['T-1']?.state, s.tunnels?.['T-1']?.reason],
      ['failed', 'frpc: login failed'],
    );
    const c = recorder(6000);
    s = edgeActor.timers!.commands(s, undefined, c.ctx)!;
    assert.deepEqual(
      [s.tunnels?.['T-2']?.state, s.tunnels?.['T-2']?.reason],
      ['failed', 'the edge did not answer in time'],
    );
    assert.equal(s.commands?.['T-2.close']?.status, 'sent', 'told to close in case it opened late');
  });
});

describe('edge actor on a hub node', () => {
  const t = useRedis();

  it('logs with the node, edge and tunnel ids a central store filters on', async () => {
    const keyspace = t.keyspace();
    const lines: Record<string, unknown>[] = [];
    await using node = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [edgeActor],
      logger: captureLogger(lines),
      ...FAST_HUB,
    });
    await createActorClient(t.bus(keyspace), edgeActor).send('E-LOG', 'tunnelOpen', {
      id: 'T-LOG',
      services: [{ name: 'ssh', remotePort: 20001 }],
      expiresAt: Date.now() + 60_000,
    });
    await waitFor(() => lines.some((l) => l.tunnelId === 'T-LOG'), { message: 'the tunnel’s log line' });
    const line = lines.find((l) => l.tunnelId === 'T-LOG')!;
    assert.deepEqual(
      [line.nodeId, line.address, line.edgeId, line.state, line.msg],
      [node.id, 'edge/E-LOG', 'E-LOG', 'requested', 'tunnel requested'],
    );
  });

  it('goes offline by its durable timer when the edge falls silent', async () => {
    const keyspace = t.keyspace();
    const actor = createEdgeActor({ offlineAfterMs: 400 });
    await using _node = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [actor],
      ...FAST_HUB,
    });
    await createActorClient(t.bus(keyspace), actor).send('E-9', 'telemetry', {
      kind: 'status',
      seq: 1,
      data: { floor: 2 },
    });
    const address = 'edge/E-9';
    const group = keyspace.groupOf(keyspace.shardOf(address));
    const events = async () =>
      ((await t.redis.xrange(keyspace.outbox(group), '-', '+')) as [string, string[]][]).map(
        ([, fields]) => (JSON.parse(fields[1]!) as OutboxEvent).type,
      );
    // The tiles (latest values) go to the live stream, one entry per commit (bus/live.ts).
    const tiles = async () =>
      (await t.redis.xrange(keyspace.live(group), '-', '+')).flatMap(
        ([, fields]) => parseLiveEntry(fields)!.events as OutboxEvent[],
      );
    await waitFor(async () => (await events()).includes('edge.offline'), {
      message: 'edge.offline in the outbox',
    });
    assert.deepEqual(await events(), ['edge.online', 'edge.offline']);
    assert.deepEqual(
      (await tiles()).map((e) => [e.type, e.floor, e.online]),
      [['edge.tile', 2, true]],
      'the status changed the tile (going offline is the outbox event)',
    );
    const state = (await readActorState<EdgeState>(t.bus(keyspace), address))!.state;
    assert.equal(state.online, false);
    assert.deepEqual(state.shadow.status, { floor: 2 });
  });
});
