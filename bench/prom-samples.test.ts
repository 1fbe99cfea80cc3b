import assert from 'node:assert/strict';
import { test } from 'node:test';
import { promSamples, promValue } from './prom-samples.ts';

const TEXT = `# HELP x_seconds_sum GC time
x_seconds_sum{kind="minor"} 0.25
x_seconds_sum{kind="major",note="a \\"b\\""} 1.5
x_seconds_sum_extra 9
lag_seconds 0.012
`;

test('samples of one metric with their labels; a longer name is another metric', () => {
  assert.deepEqual(promSamples(TEXT, 'x_seconds_sum'), [
    { labels: { kind: 'minor' }, value: 0.25 },
    { labels: { kind: 'major', note: 'a \\"b\\"' }, value: 1.5 },
  ]);
  assert.equal(promValue(TEXT, 'lag_seconds'), 0.012);
  assert.ok(Number.isNaN(promValue(TEXT, 'absent')));
});
