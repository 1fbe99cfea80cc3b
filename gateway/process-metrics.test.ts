/**
 * The gateway's process metrics: prom-client's defaults without those that list every handle at
 * each scrape, and the open file descriptors counted again only once their count is stale.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { processMetrics } from './process-metrics.ts';

const PREFIX = 'test_';

async function scrape(registry: Registry): Promise<Map<string, number>> {
  const values = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    const match = /^(\w+)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (match) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

describe('gateway process metrics', () => {
  it('keeps CPU, memory, loop lag and GC, and lists no handles at a scrape', async () => {
    const registry = new Registry();
    processMetrics(registry, PREFIX);
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    for (const kept of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_gc_duration_seconds',
      'nodejs_heap_size_used_bytes',
      'process_max_fds',
      'process_open_fds',
    ])
      assert.ok(names.includes(`${PREFIX}${kept}`), `${kept} is there`);
    for (const gone of ['nodejs_active_handles', 'nodejs_active_resources', 'nodejs_active_requests'])
      assert.ok(!names.some((n) => n.startsWith(`${PREFIX}${gone}`)), `${gone} is not`);
  });

  it('counts the open file descriptors again once the count is stale', async () => {
    const registry = new Registry();
    let clock = 0;
    processMetrics(registry, PREFIX, { openFdsEveryMs: 30_000, now: () => clock });
    const before = (await scrape(registry)).get(`${PREFIX}process_open_fds`)!;
    assert.ok(before > 0, `some descriptors are open (${before})`);
    const opened = Array.from({ length: 40 }, () => openSync('/dev/null', 'r'));
    try {
      clock = 29_999;
      assert.equal((await scrape(registry)).get(`${PREFIX}process_open_fds`), before, 'the count is kept');
      clock = 30_000;
      const after = (await scrape(registry)).get(`${PREFIX}process_open_fds`)!;
      assert.ok(after >= before + 40, `counted again: ${after} ≥ ${before} + 40`);
    } finally {
      for (const fd of opened) closeSync(fd);
    }
  });
});
