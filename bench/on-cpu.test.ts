import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSplits, roleOf } from './on-cpu.ts';
import { parsePerfScript, splitByProcess } from './on-cpu-split.ts';

// What `perf script -F pid,ip,sym` prints: the pid, then the stack innermost first.
const SCRIPT = `
101 
\t    7f00aa01 v8::internal::JsonParser<unsigned char>::ScanJsonString
\t    7f00aa02 JS:*'parseBody file:///x/edge/protocol/legacy.ts:193:19
\t    7f00aa03 JS:*'#handle file:///x/edge/link/mqtt-link.ts:253:10

101 
\tffffffff8207e83d tcp_write_xmit
\t    7f00bb01 JS:+'execPipeline /x/node_modules/ioredis/built/Pipeline.js:320:26

101 
\t    7f00cc01 v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot>

101 
\t    7f00dd01 uv__io_poll

202 
\t    7f00ee01 JS:*'applyQueues file:///x/actors/turn/apply.ts:21:34

303 
\t    7f00ff01 lpValidateNext
`;

test('perf script output splits into samples per process, innermost frame first', () => {
  const samples = parsePerfScript(SCRIPT);
  assert.equal(samples.length, 6);
  assert.deepEqual(
    samples.map((s) => s.pid),
    [101, 101, 101, 101, 202, 303],
  );
  assert.match(samples[0]!.frames[0]!, /ScanJsonString/);
  assert.equal(samples[0]!.frames.length, 3);
});

test('each process gets its CPU a second, its kernel share and its stages; unlisted pids are left out', () => {
  const roles = new Map([
    [101, 'link'],
    [202, 'node'],
  ]);
  const splits = splitByProcess(parsePerfScript(SCRIPT), { roles, hz: 100, seconds: 0.01 });
  assert.deepEqual(
    splits.map((s) => [s.role, s.samples]),
    [
      ['link', 4],
      ['node', 1],
    ],
  );
  const link = splits[0]!;
  // 4 samples at 100 Hz over 10 ms: 40 ms of CPU in 10 ms, i.e. 4,000 ms a second (4 cores' worth).
  assert.equal(link.cpuMsPerSec, 4000);
  assert.equal(link.kernelPct, 25);
  const pct = Object.fromEntries(link.stages.map((s) => [s.name, s.pct]));
  assert.equal(pct['legacy JSON.parse'], 25);
  assert.equal(pct['Redis commands & writes'], 25, 'a kernel frame under a JS stage counts in that stage');
  assert.equal(pct['garbage collection'], 25);
  assert.equal(pct.other, 25);
  assert.deepEqual(link.otherTop, [{ frame: 'uv__io_poll', pct: 25 }]);
  assert.equal(
    Object.values(pct).reduce((a, b) => a + b, 0),
    100,
  );
  const node = Object.fromEntries(splits[1]!.stages.map((s) => [s.name, s.pct]));
  assert.equal(node['handlers (apply)'], 100);
});

test('processes are told apart by their command line', () => {
  const node = '/root/.cache/devicehub/node-24/bin/node';
  assert.equal(roleOf([node, '--perf-basic-prof', '/w/cli/devicehub.ts', 'link', 'mqtt']), 'link');
  assert.equal(roleOf([node, '/w/cli/devicehub.ts', 'node', '--redis', 'redis://x']), 'node');
  assert.equal(roleOf([node, '/w/cli/devicehub.ts', 'simulate', '--edges', '5']), 'simulator');
  assert.equal(roleOf([node, '/w/cli/devicehub.ts', 'gateway']), undefined);
  assert.equal(roleOf(['redis-server 127.0.0.1:6379']), 'redis'); // its title, rewritten
  assert.equal(roleOf(['/usr/sbin/mosquitto', '-c', 'x.conf']), 'mosquitto');
  assert.equal(roleOf(['bash']), undefined);
});

test('the table gives µs a message when the rate is known', () => {
  const roles = new Map([[101, 'link']]);
  const [link] = splitByProcess(parsePerfScript(SCRIPT), { roles, hz: 1000, seconds: 1 });
  // 4 samples at 1 kHz in 1 s: 4 ms a second; at 1,000 msg/s, 4 µs a message, 1 of them the parse.
  const table = formatSplits([link!], 1000);
  assert.match(table, /\| \*\*all\*\* \(at 1000 msg\/s\) \| \*\*4\.00\*\* \|/);
  assert.match(table, /\| legacy JSON\.parse \| 1\.00 \|/);
  assert.match(formatSplits([link!]), /\| legacy JSON\.parse \| 25\.0 % \|/);
});
