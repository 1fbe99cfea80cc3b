/**
 * The MQTT floor's publishers, run as their own process: `connections` edges publishing ~600 B
 * legacy JSON at QoS 0 on their own legacy topics, `rate` messages a second in all (10 ms ticks),
 * first for `warmup` seconds (the receiver's JIT warms up, not measured), then for `seconds`.
 * Plain mqtt.js, no DeviceHub code.
 *
 *   node --import tsx bench/floor-publisher.ts URL RATE SECONDS '{"E-000001":"password",…}' [WARMUP]
 *
 * Prints {"connected":true} once every connection is up, {"warm":true} when the warm-up's
 * messages are out, then {"done":true,"sent":N} (N: the messages after the warm-up).
 */
import mqtt from 'mqtt';
import { legacyData } from './workload.ts';

const [url, rateArg, secondsArg, usersArg, warmupArg = '0'] = process.argv.slice(2);
if (url === undefined || usersArg === undefined)
  throw new Error('usage: URL RATE SECONDS USERS_JSON [WARMUP_SECONDS]');
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const warmup = Math.round(rate * Number(warmupArg));
const users = Object.entries(JSON.parse(usersArg) as Record<string, string>);
const clients = await Promise.all(
  users.map(([username, password]) =>
    mqtt.connectAsync(url, {
      username,
      password,
      clientId: username,
      protocolVersion: 5,
      reconnectPeriod: 0,
    }),
  ),
);
process.stdout.write(`${JSON.stringify({ connected: true })}\n`);
const TICK_MS = 10;
const start = Date.now();
const total = warmup + Math.round(rate * seconds);
let sent = 0;
let warm = warmup === 0;
if (warm) process.stdout.write(`${JSON.stringify({ warm: true })}\n`);
while (sent < total) {
  const due = Math.min(total, Math.floor(((Date.now() - start) * rate) / 1000));
  for (; sent < due; sent++) {
    const c = sent % clients.length;
    const payload = JSON.stringify({
      msgType: 'status',
      deviceId: users[c]![0],
      seqNo: sent,
      ts: Date.now(),
      data: legacyData('status', c, sent),
    });
    clients[c]!.publish(`dh/v1/${users[c]![0]}/legacy`, payload, { qos: 0 });
  }
  if (!warm && sent >= warmup) {
    warm = true;
    process.stdout.write(`${JSON.stringify({ warm: true })}\n`);
  }
  await new Promise((resolve) => setTimeout(resolve, TICK_MS));
}
await Promise.all(clients.map((c) => c.endAsync()));
process.stdout.write(`${JSON.stringify({ done: true, sent: sent - warmup })}\n`);
