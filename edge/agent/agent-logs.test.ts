/**
 * The agent's log shipping without a broker (batches collected as the forwarder would queue
 * them): the level in force filters lines, an override applies until its `until` and then the
 * configured level is back by itself, the budget drops and counts what is over it, the agent's
 * own lines (the teed logger) ship as source `agent`, and file positions survive a restart.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeLogBatch, type LogLine } from '../protocol/mod.ts';
import { AgentLogs, teeLogger } from './agent-logs.ts';
import { silentLogger } from './logger.ts';

function setup(now: { t: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'agent-logs-'));
  const file = join(dir, 'elenet.log');
  writeFileSync(file, '');
  const shipped: LogLine[] = [];
  const logs = new AgentLogs({
    dataDir: dir,
    send: (batch) => shipped.push(...decodeLogBatch(batch).lines),
    log: silentLogger,
    now: () => now.t,
  });
  return { dir, file, shipped, logs };
}

const T = Date.parse('2026-11-30T10:00:00Z');

describe('AgentLogs', () => {
  it('ships lines at the configured level or worse; an override until its end, then back by itself', async () => {
    const now = { t: T };
    const { file, shipped, logs } = setup(now);
    const files = [{ path: file, source: 'elenet' }];
    logs.configure({
      level: 'warn',
      files,
      override: { level: 'debug', until: new Date(T + 3_600_000).toISOString() },
    });
    await logs.tick(); // opens the file at its end
    appendFileSync(file, 'DEBUG frame 1\nINFO frame 2\nWARN slow\nTRACE noise\n');
    await logs.tick();
    assert.deepEqual(
      shipped.map((l) => [l.source, l.level, l.msg]),
      [
        ['elenet', 'debug', 'DEBUG frame 1'],
        ['elenet', 'info', 'INFO frame 2'],
        ['elenet', 'warn', 'WARN slow'],
      ],
    );
    assert.equal(logs.stats.level, 'debug');
    assert.equal(logs.stats.overrideUntil, new Date(T + 3_600_000).toISOString());
    assert.equal(logs.stats.filtered, 1);

    now.t = T + 3_600_000; // the hour is over: nobody told the agent, it goes back to warn itself
    shipped.length = 0;
    appendFileSync(file, 'DEBUG frame 3\nERROR lost camera\n');
    await logs.tick();
    assert.deepEqual(
      shipped.map((l) => l.msg),
      ['ERROR lost camera'],
    );
    assert.equal(logs.stats.level, 'warn');
    assert.equal(logs.stats.overrideUntil, undefined);
    await logs.close();
  });

  it('drops and counts lines over lines/s and bytes/day, and takes them again as the budget refills', async () => {
    const now = { t: T };
    const { file, shipped, logs } = setup(now);
    logs.configure({ files: [{ path: file, source: 'core' }], linesPerSecond: 2, bytesPerDay: 1_000_000 });
    await logs.tick();
    appendFileSync(file, Array.from({ length: 50 }, (_, i) => `line ${i}\n`).join(''));
    await logs.tick();
    const core = () => shipped.filter((l) => l.source === 'core').length;
    assert.equal(core(), 20, 'a burst of ten seconds’ worth');
    assert.equal(logs.stats.dropped.rate, 30);
    assert.deepEqual(
      shipped.filter((l) => l.source === 'agent').map((l) => [l.level, l.msg]),
      [['warn', 'log lines dropped over the budget {"rate":30,"bytes":0,"buffer":0,"queueBatches":0}']],
      'the agent says what its budget dropped (at most once a minute)',
    );
    now.t += 5000; // 10 more lines' worth
    appendFileSync(file, Array.from({ length: 15 }, (_, i) => `later ${i}\n`).join(''));
    await logs.tick();
    assert.equal(core(), 30);
    assert.equal(logs.stats.dropped.rate, 35);

    logs.configure({ files: [{ path: file, source: 'core' }], linesPerSecond: 1000, bytesPerDay: 2500 });
    now.t += 60_000;
    appendFileSync(file, `${'z'.repeat(1000)}\n${'z'.repeat(1000)}\n${'z'.repeat(1000)}\n`);
    await logs.tick();
    assert.equal(
      logs.stats.dropped.bytes,
      1,
      '200 bytes earlier and two 1000-byte lines fit 2500 bytes a day; the third does not',
    );
    now.t = Date.parse('2026-12-01T00:00:01Z'); // a new UTC day
    appendFileSync(file, `${'z'.repeat(1000)}\n`);
    await logs.tick();
    assert.equal(logs.stats.dropped.bytes, 1, 'a new day, a new budget');
    assert.equal(logs.stats.shipped, shipped.length);
    await logs.close();
  });

  it('ships the agent’s own lines as source agent, fields as JSON, and resumes a file after a restart', async () => {
    const now = { t: T };
    const { dir, file, shipped, logs } = setup(now);
    const log = teeLogger(silentLogger, (level, fields, msg) => logs.own(level, fields, msg)).child({
      component: 'uplink',
    });
    logs.configure({ files: [{ path: file, source: 'elenet' }] });
    log.warn({ err: new Error('refused') }, 'send failed');
    log.debug({}, 'not at info');
    await logs.tick();
    assert.deepEqual(
      shipped.map((l) => [l.source, l.level, l.msg]),
      [['agent', 'warn', 'send failed {"component":"uplink","err":"refused"}']],
    );
    appendFileSync(file, 'before the restart\n');
    await logs.tick();
    await logs.close();
    appendFileSync(file, 'while the agent was down\n');
    const again: LogLine[] = [];
    const restarted = new AgentLogs({
      dataDir: dir,
      send: (batch) => again.push(...decodeLogBatch(batch).lines),
      log: silentLogger,
      now: () => now.t,
    });
    restarted.configure({ files: [{ path: file, source: 'elenet' }] });
    await restarted.tick();
    assert.deepEqual(
      again.map((l) => l.msg),
      ['while the agent was down'],
    );
    await restarted.close();
  });
});
