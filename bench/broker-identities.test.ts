/**
 * The broker-identities measurement at a tiny size, so it cannot break unnoticed: every
 * measurement comes back with all its fields (no timed assertions).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { measureBrokerIdentities } from './broker-identities.ts';

describe('bench/broker-identities.ts', { timeout: 120_000 }, () => {
  it('measures creating edges and one change with edges present', async () => {
    const results = await measureBrokerIdentities({ create: [5], present: [20] });
    assert.equal(results.length, 2);
    const [create, present] = results;
    assert.ok(create?.measure === 'create' && create.edges === 5 && create.fileBytes > 0);
    assert.ok(present?.measure === 'one-with-present' && present.present === 20);
    for (const value of [
      present.startMs,
      present.registerMs,
      present.rotateMs,
      present.removeMs,
      present.listMs,
    ])
      assert.ok(Number.isFinite(value) && value >= 0);
  });
});
