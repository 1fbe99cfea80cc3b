import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binomialUpperTail, compareRates, conditionalPower, detectableRatio } from './health-test.ts';
import { afterReport, M, type MemberRecord } from './members.ts';
import { checkSpec, RolloutSpecError, type WaveSpec } from './spec.ts';
import { gate, refill, tally, thresholdTripped, waveOf } from './waves.ts';
import { inMaintenanceWindow, localTime } from './windows.ts';

const WAVES: WaveSpec[] = [
  { name: 'canary', percent: 1, successPercent: 100, holdMs: 1000 },
  { name: 'tenth', percent: 10, successPercent: 95, holdMs: 1000 },
  { name: 'half', percent: 50, successPercent: 95, holdMs: 1000 },
  { name: 'all', percent: 100, successPercent: 95, holdMs: 1000 },
];

describe('waves', () => {
  it('places members by hash into cumulative percent waves, deterministically', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 20_000; i++) counts[waveOf(WAVES, 'r1', { edgeId: `E-${i}` })]!++;
    assert.ok(counts[0]! > 120 && counts[0]! < 280, `canary ≈ 1 %: ${counts[0]}`);
    assert.ok(counts[1]! > 1600 && counts[1]! < 2000, `second wave ≈ 9 %: ${counts[1]}`);
    assert.ok(counts[3]! > 9500 && counts[3]! < 10_500, `last wave ≈ 50 %: ${counts[3]}`);
    assert.equal(waveOf(WAVES, 'r1', { edgeId: 'E-7' }), waveOf(WAVES, 'r1', { edgeId: 'E-7' }));
  });

  it('puts a building’s members in its wave and honours an explicit wave', () => {
    const waves: WaveSpec[] = [
      { name: 'pilot', buildings: ['B-1'], successPercent: 100, holdMs: 0 },
      { name: 'rest', percent: 100, successPercent: 90, holdMs: 0 },
    ];
    assert.equal(waveOf(waves, 'r', { edgeId: 'E-1', building: 'B-1' }), 0);
    assert.equal(waveOf(waves, 'r', { edgeId: 'E-1', building: 'B-2' }), 1);
    assert.equal(waveOf(waves, 'r', { edgeId: 'E-1', wave: 0 }), 0);
  });

  it('gates a wave: waits for every member, holds, then passes or fails on the healthy share', () => {
    const wave = WAVES[1]!;
    const base = { members: 20, pending: 0, inFlight: 0, healthy: 19, failed: 1, reverted: 0 };
    assert.equal(gate(wave, { ...base, inFlight: 1, healthy: 18 }, { doneAt: 0, now: 5 }).kind, 'wait');
    assert.deepEqual(gate(wave, base, { doneAt: 100, now: 500 }), { kind: 'hold', until: 1100 });
    assert.equal(gate(wave, base, { doneAt: 100, now: 1100 }).kind, 'pass');
    assert.deepEqual(gate(wave, { ...base, healthy: 18, failed: 2 }, { doneAt: 100, now: 1100 }), {
      kind: 'fail',
      healthyPercent: 90,
    });
  });

  it('trips the error threshold by count or by percent (after minFinished), counted from the last resume', () => {
    assert.match(
      thresholdTripped({ count: 3 }, { failed: 3, finished: 50 }, { failed: 0, finished: 0 })!,
      /3 edges failed/,
    );
    assert.equal(
      thresholdTripped({ count: 3 }, { failed: 3, finished: 50 }, { failed: 1, finished: 10 }),
      undefined,
    );
    assert.equal(
      thresholdTripped({ percent: 5 }, { failed: 2, finished: 5 }, { failed: 0, finished: 0 }),
      undefined,
    );
    assert.match(
      thresholdTripped({ percent: 5 }, { failed: 2, finished: 20 }, { failed: 0, finished: 0 })!,
      /10.0 %/,
    );
    const members: Record<string, MemberRecord> = {
      a: [0, M.healthy, 1, 0, 0, 0],
      b: [0, M.failed, 1, 0, 0, 0],
      c: [0, M.timedOut, 2, 0, 0, 0],
      d: [0, M.installing, 1, 0, 0, 0],
    };
    assert.deepEqual(tally(members), { failed: 2, finished: 3 });
  });

  it('limits admissions with a token bucket at ratePerMinute', () => {
    const spec = { ratePerMinute: 600, tickMs: 1000 };
    let bucket = refill({ tokens: 0, at: 0 }, spec, 10_000);
    assert.equal(bucket.tokens, 10, 'a first tick’s worth');
    bucket = refill({ tokens: 0, at: 10_000 }, spec, 10_500);
    assert.equal(bucket.tokens, 5);
    bucket = refill({ tokens: 0, at: 10_000 }, spec, 100_000);
    assert.equal(bucket.tokens, 20, 'capped at two ticks’ worth');
  });

  it('moves an edge forward only, keeps failures final, and maps a roll back’s answer', () => {
    assert.equal(afterReport(M.assigned, 'downloading'), M.downloading);
    assert.equal(afterReport(M.installing, 'downloading'), undefined, 'an older report redelivered');
    assert.equal(afterReport(M.healthy, 'rolled_back'), M.rolledBack, 'a failure after healthy counts');
    assert.equal(afterReport(M.failed, 'healthy'), undefined);
    assert.equal(afterReport(M.pending, 'healthy'), undefined, 'never assigned');
    assert.equal(afterReport(M.rollbackSent, 'rolled_back'), M.reverted);
    assert.equal(afterReport(M.timedOut, 'healthy'), M.healthy, 'a late success still counts');
  });
});

describe('rollout spec', () => {
  const spec = { target: { kind: 'config' as const, version: 3 }, waves: WAVES };
  it('fills in defaults (config rollouts are pulled)', () => {
    const checked = checkSpec(spec);
    assert.equal(checked.delivery, 'pull');
    assert.equal(checked.retries, 1);
    assert.equal(checked.ratePerMinute, 600);
  });
  it('refuses what cannot work, naming the field and value', () => {
    assert.throws(() => checkSpec({ ...spec, waves: [] }), RolloutSpecError);
    assert.throws(
      () => checkSpec({ ...spec, waves: [{ ...WAVES[1]! }, { ...WAVES[0]! }] }),
      /waves\[1\]\.percent must not be below the wave before, got 1/,
    );
    assert.throws(
      () => checkSpec({ ...spec, maintenanceWindows: [{ start: '25:00', end: '03:00' }] }),
      /maintenanceWindows\[0\]/,
    );
    assert.throws(() => checkSpec({ ...spec, target: { kind: 'packages', targets: [] } }), /target\.targets/);
  });
});

describe('maintenance windows in the building’s local time', () => {
  // 2026-11-30 is a Monday; 18:30 UTC is 02:30 Tuesday in Shanghai (UTC+8), 13:30 Monday in New York.
  const at = Date.UTC(2026, 10, 30, 18, 30);
  it('reads the local weekday and minute', () => {
    assert.deepEqual(localTime(at, 'Asia/Shanghai'), { day: 2, minute: 150 });
    assert.deepEqual(localTime(at, 'America/New_York'), { day: 1, minute: 13 * 60 + 30 });
  });
  it('opens a night window past midnight in one zone and not another', () => {
    const night = [{ start: '22:00', end: '05:00' }];
    assert.equal(inMaintenanceWindow(night, 'Asia/Shanghai', at), true);
    assert.equal(inMaintenanceWindow(night, 'America/New_York', at), false);
    assert.equal(inMaintenanceWindow(undefined, 'America/New_York', at), true, 'no windows: any time');
  });
  it('counts a window past midnight as the day it started', () => {
    assert.equal(
      inMaintenanceWindow([{ days: [1], start: '22:00', end: '05:00' }], 'Asia/Shanghai', at),
      true,
    );
    assert.equal(
      inMaintenanceWindow([{ days: [2], start: '22:00', end: '05:00' }], 'Asia/Shanghai', at),
      false,
    );
  });
});

describe('the health test (two Poisson rates, exact conditional binomial)', () => {
  it('sums the binomial tail exactly', () => {
    assert.ok(Math.abs(binomialUpperTail(3, 5, 0.5) - 0.5) < 1e-12);
    assert.ok(Math.abs(binomialUpperTail(1, 10, 0.1) - (1 - 0.9 ** 10)) < 1e-12);
    assert.equal(binomialUpperTail(0, 10, 0.3), 1);
  });

  it('finds a canary with 4× the rate significant and equal rates not', () => {
    const o = { alpha: 0.01, minEvents: 5, minRatio: 1.5 };
    // 50 canary edges for 10 h at 0.08/h vs 4,950 at 0.02/h.
    const worse = compareRates(
      { updatedEvents: 40, updatedExposure: 500, controlEvents: 990, controlExposure: 49_500 },
      o,
    );
    assert.equal(worse.significant, true);
    assert.ok(worse.pValue < 1e-6, `p = ${worse.pValue}`);
    const same = compareRates(
      { updatedEvents: 11, updatedExposure: 500, controlEvents: 990, controlExposure: 49_500 },
      o,
    );
    assert.equal(same.significant, false);
    assert.ok(same.pValue > 0.3, `p = ${same.pValue}`);
  });

  it('needs minEvents and minRatio besides the p-value', () => {
    const v = compareRates(
      { updatedEvents: 3, updatedExposure: 10, controlEvents: 0, controlExposure: 10_000 },
      { alpha: 0.01, minEvents: 5, minRatio: 1.5 },
    );
    assert.ok(v.pValue < 0.01);
    assert.equal(v.significant, false);
  });

  it('holds its level and computes power at canary size', () => {
    const d = { updatedEdges: 50, controlEdges: 4950, hours: 4, ratePerEdgeHour: 0.05, alpha: 0.01 };
    assert.ok(conditionalPower({ ...d, ratio: 1 }) <= 0.011, 'size at most alpha under H0');
    const p3 = conditionalPower({ ...d, ratio: 3 });
    assert.ok(p3 > 0.9, `power at 3× = ${p3}`);
    const r = detectableRatio({ ...d, minEvents: 5 });
    assert.ok(r > 1.5 && r < 3, `80 % power at ratio ${r}`);
  });
});
