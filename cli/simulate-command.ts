/**
 * `npm run simulate -- --edges N --url mqtt://… [--speed X]`: thousands of simulated edges against
 * a running broker, with a progress line; `--alarm-storm-at S` and `--reconnect-storm-at S` set
 * off the fleet storms S seconds in. Transport mqtt and workload compact (the Kafka transport
 * and the legacy workload are the next part of issue 3).
 */
import { parseArgs } from 'node:util';
import { Simulator, simulatedPassword } from '../edge/mod.ts';

export const simulateHelp = `devicehub simulate --url mqtt://host:port [options]

  --edges N               simulated edges (default 1000), ids E-000001…, password sim-<id>
  --speed X               simulated seconds per real second (default 1)
  --seconds S             stop after S seconds (default: until Ctrl-C)
  --alarm-storm-at S      1% of the fleet raises an alarm within 10 s, S seconds in
  --reconnect-storm-at S  every edge reconnects within 30 s, S seconds in
  --transport mqtt        (kafka: not yet)   --workload compact   (legacy: not yet)`;

export async function simulateCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      edges: { type: 'string', default: '1000' },
      speed: { type: 'string', default: '1' },
      seconds: { type: 'string' },
      'alarm-storm-at': { type: 'string' },
      'reconnect-storm-at': { type: 'string' },
      transport: { type: 'string', default: 'mqtt' },
      workload: { type: 'string', default: 'compact' },
    },
  });
  if (values.transport !== 'mqtt' || values.workload !== 'compact') {
    throw new RangeError(
      `simulate: only --transport mqtt --workload compact so far, got ${values.transport}/${values.workload}`,
    );
  }
  const url = values.url ?? process.env.MQTT_URL;
  if (!url) throw new RangeError(`simulate needs --url / MQTT_URL\n\n${simulateHelp}`);
  const edges = Number(values.edges);
  if (!Number.isInteger(edges) || edges < 1)
    throw new RangeError(`--edges must be a positive integer, got ${values.edges}`);
  const sim = await new Simulator({
    url,
    edges,
    password: simulatedPassword,
    speed: Number(values.speed),
  }).start();
  const startedAt = Date.now();
  const at = (flag: string | undefined, fn: () => void) =>
    flag !== undefined && setTimeout(fn, Number(flag) * 1000);
  at(values['alarm-storm-at'], () => sim.alarmStorm());
  at(values['reconnect-storm-at'], () => sim.reconnectStorm());
  const progress = setInterval(() => {
    const s = sim.stats;
    process.stderr.write(
      `\r[simulate] ${((Date.now() - startedAt) / 1000).toFixed(0)} s  connected ${s.connected}/${edges}  sent ${s.sent}  errors ${s.publishErrors}  storm alarms ${s.alarmsRaised}   `,
    );
  }, 1000);
  const stop = async () => {
    clearInterval(progress);
    await sim.stop();
    process.stderr.write('\n');
    process.exit(0);
  };
  if (values.seconds) setTimeout(() => void stop(), Number(values.seconds) * 1000);
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
