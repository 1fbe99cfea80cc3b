import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ActorContext, type OutboxEvent, silentLogger, TerminalError } from '../../actors/mod.ts';
import type { UpdateAssignPayload } from '../rollout/mod.ts';
import { edgeActor } from './edge-actor.ts';
import type { EdgeState } from './state.ts';

function recorder(now: number) {
  const events: OutboxEvent[] = [];
  const mail: { to: string; method: string; payload: unknown }[] = [];
  const ctx: ActorContext = {
    address: 'edge/E-1',
    id: 'E-1',
    messageId: '1-0',
    enqueuedAt: now,
    now,
    epoch: 3,
    log: silentLogger,
    setTimer: () => {},
    cancelTimer: () => {},
    emit: (event) => void events.push(event),
    publish: (event) => void events.push(event),
    send: (to, method, payload) => void mail.push({ to, method, payload }),
  };
  return { ctx, events, mail };
}

const h = edgeActor.handlers;
const T = {
  path: 'edge-package/elenet/2.0.0/e.tar',
  name: 'elenet',
  version: '2.0.0',
  kind: 'edge-package',
  sha256: 'c'.repeat(64),
  length: 9,
};
const assignment = (over: Partial<UpdateAssignPayload> = {}): UpdateAssignPayload => ({
  rollout: 'r1',
  wave: 0,
  attempt: 1,
  targets: [T],
  spreadMs: 1000,
  healthDeadlineMs: 60_000,
  delivery: 'command',
  ...over,
});

describe('edge actor: updates', () => {
  it('issues the update command once per rollout and attempt, and none for pull delivery', () => {
    const a = recorder(1000);
    const s1 = h.updateAssign(edgeActor.initialState('E-1'), assignment(), a.ctx)!;
    assert.equal(a.events.length, 1);
    assert.deepEqual(
      {
        type: a.events[0]!.type,
        command: a.events[0]!.command,
        id: a.events[0]!.id,
        epoch: a.events[0]!.epoch,
      },
      { type: 'command', command: 'update', id: 'upd-r1-1', epoch: 3 },
    );
    assert.deepEqual((a.events[0]!.args as { targets: unknown[] }).targets, [T]);
    assert.equal(s1.updates?.assigned?.state, 'assigned');
    const b = recorder(2000);
    assert.equal(h.updateAssign(s1, assignment(), b.ctx), undefined, 'the same mail again');
    assert.equal(b.events.length, 0);
    const c = recorder(3000);
    const pulled = h.updateAssign(s1, assignment({ rollout: 'r2', delivery: 'pull' }), c.ctx)!;
    assert.equal(c.events.length, 0, 'pull: no command');
    assert.equal(pulled.updates?.assigned?.rollout, 'r2');
  });

  it("tells a configuration's assignment (the gateway serves it), with the state that records it", () => {
    const a = recorder(1000);
    const config = { targets: undefined, delivery: 'pull', configVersion: 7 } as const;
    const s = h.updateAssign(edgeActor.initialState('E-1'), assignment(config), a.ctx)!;
    assert.equal(s.updates?.assigned?.configVersion, 7);
    assert.deepEqual(a.events, [
      { type: 'update.assigned', edgeId: 'E-1', rollout: 'r1', attempt: 1, configVersion: 7 },
    ]);
    const b = recorder(2000);
    h.updateAssign(s, assignment({ ...config, attempt: 2, configVersion: 6, rollback: true }), b.ctx);
    assert.deepEqual(b.events, [
      { type: 'update.assigned', edgeId: 'E-1', rollout: 'r1', attempt: 2, configVersion: 6, rollback: true },
    ]);
  });

  it('records reports, installs the version on healthy and forwards each to the rollout', () => {
    let s = h.updateAssign(edgeActor.initialState('E-1'), assignment(), recorder(1).ctx)!;
    const r = recorder(5000);
    for (const state of ['downloading', 'installing', 'healthy'] as const)
      s = h.updateState(
        s,
        { rollout: 'r1', target: T.path, name: 'elenet', version: '2.0.0', state },
        r.ctx,
      )!;
    assert.deepEqual(
      r.mail.map((m) => [m.to, m.method, (m.payload as { state: string }).state]),
      [
        ['rollout/r1', 'edgeState', 'downloading'],
        ['rollout/r1', 'edgeState', 'installing'],
        ['rollout/r1', 'edgeState', 'healthy'],
      ],
    );
    assert.deepEqual(
      r.events.map((e) => [e.type, e.edgeId, e.state]),
      [
        ['update.state', 'E-1', 'downloading'],
        ['update.state', 'E-1', 'installing'],
        ['update.state', 'E-1', 'healthy'],
      ],
    );
    assert.equal(s.updates?.installed?.elenet?.version, '2.0.0');
    assert.equal(s.updates?.installed?.elenet?.sha256, T.sha256);
    assert.equal(s.updates?.history?.length, 3);
    const again = recorder(6000);
    assert.equal(
      h.updateState(
        s,
        { rollout: 'r1', target: T.path, name: 'elenet', version: '2.0.0', state: 'healthy' },
        again.ctx,
      ),
      undefined,
      'a repeated report changes nothing',
    );
  });

  it('records a roll back as the version it went back to, without the newer target’s hash', () => {
    let s = h.updateAssign(edgeActor.initialState('E-1'), assignment(), recorder(1).ctx)!;
    const report = {
      rollout: 'r1',
      target: T.path,
      name: 'elenet',
      version: '2.0.0',
      state: 'healthy',
    } as const;
    s = h.updateState(s, report, recorder(2).ctx)!;
    s = h.updateAssign(s, assignment({ attempt: 2, rollback: true }), recorder(3).ctx)!;
    const old = 'edge-package/elenet/1.0.0/e.tar';
    s = h.updateState(s, { ...report, target: old, version: '1.0.0' }, recorder(4).ctx)!;
    assert.deepEqual(
      { ...s.updates?.installed?.elenet, at: 0 },
      { version: '1.0.0', path: old, kind: 'edge-package', rollout: 'r1', at: 0 },
    );
  });

  it('refuses for good a report for a rollout the edge is not assigned', () => {
    const s = h.updateAssign(edgeActor.initialState('E-1'), assignment(), recorder(1).ctx)!;
    assert.throws(
      () =>
        h.updateState(
          s,
          { rollout: 'zz', target: T.path, name: 'elenet', version: '9', state: 'failed' },
          recorder(2).ctx,
        ),
      (e: unknown) => e instanceof TerminalError && e.code === 'NOT_IN_ROLLOUT',
    );
  });

  it('sends an enrolled edge’s alarms, restarts, reconnects and going offline to its rollout', () => {
    let s: EdgeState = h.updateEnroll(
      edgeActor.initialState('E-1'),
      { rollout: 'r1', until: 1_000_000 },
      recorder(1).ctx,
    )!;
    const r = recorder(10_000);
    s = h.telemetry(s, { kind: 'heartbeat', seq: 1, boot: 'b1', data: {} }, r.ctx);
    s = h.alarm(s, { alarm: 'trapped', phase: 'start', seq: 2, boot: 'b1' }, r.ctx);
    s = h.telemetry(s, { kind: 'heartbeat', seq: 1, boot: 'b2', data: {} }, r.ctx);
    const later = recorder(100_000); // silent for longer than the offline window
    s = edgeActor.timers!.offline(s, undefined, later.ctx)!;
    s = h.telemetry(s, { kind: 'heartbeat', seq: 2, boot: 'b2', data: {} }, later.ctx);
    assert.deepEqual(
      [...r.mail, ...later.mail].map((m) => [m.to, (m.payload as { event: string }).event]),
      [
        ['rollout/r1', 'alarm'],
        ['rollout/r1', 'restart'],
        ['rollout/r1', 'offline'],
        ['rollout/r1', 'reconnect'],
      ],
    );
    const late = recorder(2_000_000);
    h.alarm(s, { alarm: 'smoke', phase: 'start' }, late.ctx);
    assert.equal(late.mail.length, 0, 'the enrolment ended');
  });
});
