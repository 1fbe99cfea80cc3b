import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { usesTestRedis } from './redis-test-files.ts';

describe('the Redis Cluster pass picks', () => {
  it('a test that uses the test Redis itself, and one that uses it through a testdata helper', () => {
    assert.equal(usesTestRedis('gateway/outbox/outbox.test.ts'), true);
    assert.equal(usesTestRedis('edge/agent/agent.test.ts'), true, 'through testdata/agent-hub.ts');
  });

  it('not a test that starts no Redis of the suite', () => {
    assert.equal(usesTestRedis('edge/protocol/compact.test.ts'), false);
    assert.equal(usesTestRedis('cli/demo-command.test.ts'), false, 'the demo runs its own');
  });

  it('not a test whose Redis use is incidental, as the file says', () => {
    assert.equal(usesTestRedis('gateway/tls.test.ts'), false, 'Redis Cluster pass: once');
  });
});
