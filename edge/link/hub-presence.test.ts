/**
 * HubPresence against a real Redis: with no hub node in its keyspace it warns once the grace has
 * passed, not again until ten graces later, and says so when a node joins.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Line, recordingLogger } from '../../actors/testdata/recording-logger.ts';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { HubPresence } from './hub-presence.ts';

const t = useRedis();

describe('HubPresence', { timeout: 30_000 }, () => {
  it('warns once per ten graces while no node lives in the keyspace, and says when one does', async () => {
    const keyspace = t.keyspace();
    const lines: Line[] = [];
    const logger = recordingLogger(lines);
    const warnings = () =>
      lines.filter((l) => l.level === 'warn' && /no hub node is alive/.test(l.msg ?? ''));
    const started = performance.now();
    await using presence = await new HubPresence({
      bus: t.bus(keyspace),
      logger,
      everyMs: 20,
      warnAfterMs: 100,
    }).start();
    assert.equal(presence.liveNodes, 0);
    assert.equal(warnings().length, 0, 'not before the grace');
    await waitFor(() => warnings().length === 2, { timeoutMs: 5000, message: 'a warning, then its repeat' });
    const [first, second] = warnings();
    assert.match(first!.msg ?? '', new RegExp(`"${keyspace.prefix}"`));
    // Read every 20 ms, it warns after the grace (100 ms), then not again for ten graces. A line is
    // stamped when the logger gets it, a little after the clock reading the decision used, and
    // that little varies (the first line took longer once: 999.96 ms apart in CI): 5 ms of slack.
    assert.ok(first!.at - started >= 100, `first warning after ${first!.at - started} ms`);
    assert.ok(second!.at - first!.at >= 1000 - 5, `repeated after ${second!.at - first!.at} ms`);
    await using _node = await t.hub(keyspace);
    await waitFor(() => presence.liveNodes === 1, { timeoutMs: 5000, message: 'the node seen' });
    await waitFor(() => lines.some((l) => l.level === 'info' && l.msg === 'hub nodes are back'), {
      timeoutMs: 5000,
    });
  });
});
