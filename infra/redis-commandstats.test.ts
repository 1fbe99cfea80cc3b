import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandStats } from './redis-commandstats.ts';

describe('commandStats', () => {
  it('reads each command’s calls and µs from INFO commandstats, subcommands by their full name, other sections ignored', () => {
    const info = [
      '# CPU',
      'used_cpu_user:1.5',
      '# Commandstats',
      'cmdstat_evalsha:calls=12,usec=3400,usec_per_call=283.33,rejected_calls=0,failed_calls=1',
      'cmdstat_xinfo|groups:calls=7,usec=14,usec_per_call=2.00,rejected_calls=0,failed_calls=0',
      '',
    ].join('\r\n');
    assert.deepEqual(
      [...commandStats(info)],
      [
        ['evalsha', { calls: 12, usec: 3400 }],
        ['xinfo|groups', { calls: 7, usec: 14 }],
      ],
    );
  });
});
