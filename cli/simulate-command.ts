/**
 * `npm run simulate -- --edges N --transport mqtt|kafka --workload legacy|compact`: thousands of
 * simulated edges against a running broker, with a progress line; `--alarm-storm-at S` and
 * `--reconnect-storm-at S` set off the fleet storms S seconds in. `--report-json` prints a JSON
 * line a second on stdout and, at the end, one with every edge's acknowledged count (for the
 * ingest benchmark, which runs the simulator as its own process).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type SimMqttTls, Simulator, simulatedPassword } from '../edge/mod.ts';

const SIMULATE_STOP_MS = 10_000;

export const simulateHelp = `devicehub simulate [options]

  --transport mqtt|kafka  each edge its own MQTT connection, or shared Kafka producers (default mqtt)
  --workload compact|legacy  DeviceHub's agent format, or today's verbose JSON (default compact)
  --url mqtt://host:port  MQTT broker (env MQTT_URL); edges E-000001…, password sim-<id>
  --brokers host:port,…   Kafka brokers (env KAFKA_BROKERS)   --producers N (default 4)
  --mqtt-ca FILE          an mqtts:// broker: the CA its certificate must chain to (the fleet CA)
  --mqtt-cert-dir DIR     each edge's certificate <DIR>/<id>.crt and key <DIR>/<id>.key, for the
                          broker's mTLS listener (without: passwords over TLS)
  --edges N               simulated edges (default 1000)
  --connect-rate N        MQTT connections opened per second at start (default 500); the JSON
                          reports carry connectMs, when every edge was first connected
  --speed X               simulated seconds per real second (default 1)
  --seconds S             stop after S seconds (default: until Ctrl-C)
  --alarm-storm-at S      1% of the fleet raises an alarm within 10 s, S seconds in
  --reconnect-storm-at S  every edge reconnects within 30 s, S seconds in (MQTT)
  --log-lines-per-second R  each edge also ships R log lines a second (the \`log\` kind, MQTT; default 0: none)
  --log-batch-seconds S   an edge's log batch every S seconds (default 5)
  --log-run ID            a word every log line carries (default a fresh one; letters and digits)
  --log-factor F          the log rate's multiplier at start (default 1; 0: quiet until told)
  --log-burst-at S        the log rate ×10 from S seconds in, for --log-burst-seconds (default 10)
  --report-json           JSON progress on stdout; the last line has every edge's count. With log
                          lines, a parent process may send {"logFactor": F} (IPC) to set the rate's
                          multiplier (0 quiet, 1 normal, 10 a burst)`;

export async function simulateCommand(argv: string[]): Promise<void> {
  const { values, simulator, edges } = parseSimulate(argv);
  const { transport, workload } = values;
  const json = values['report-json'];
  // When every edge was first connected, from the start (a reconnect storm's length).
  const connectStart = Date.now();
  let connectMs: number | undefined;
  const connecting = setInterval(() => {
    if (simulator.stats.connected !== edges) return;
    connectMs = Date.now() - connectStart;
    clearInterval(connecting);
  }, 20);
  const sim = await simulator.start();
  const startedAt = Date.now();
  const at = (flag: string | undefined, fn: () => void) =>
    flag !== undefined && setTimeout(fn, Number(flag) * 1000);
  at(values['alarm-storm-at'], () => sim.alarmStorm());
  at(values['reconnect-storm-at'], () => sim.reconnectStorm());
  at(values['log-burst-at'], () => {
    sim.logs?.setFactor(10);
    setTimeout(() => sim.logs?.setFactor(1), Number(values['log-burst-seconds']) * 1000);
  });
  process.on('message', (message: { logFactor?: unknown }) => {
    if (typeof message?.logFactor === 'number') sim.logs?.setFactor(message.logFactor);
  });
  const progress = setInterval(() => {
    const s = { ...sim.stats, ...sim.logs?.stats };
    if (json) process.stdout.write(`${JSON.stringify({ t: Date.now() - startedAt, connectMs, ...s })}\n`);
    process.stderr.write(
      `\r[simulate ${transport}/${workload}] ${((Date.now() - startedAt) / 1000).toFixed(0)} s  connected ${s.connected}/${edges}  sent ${s.sent}  in flight ${s.inFlight}  behind ${s.behindMs} ms  errors ${s.publishErrors}  storm alarms ${s.alarmsRaised}   `,
    );
  }, 1000);
  const stop = stopper(sim, { json, timers: [progress, connecting] });
  if (values.seconds) setTimeout(() => void stop(), Number(values.seconds) * 1000);
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  if (process.send !== undefined) process.once('disconnect', () => void stop());
}

/** The command line, checked, and the simulator it describes (not started). */
function parseSimulate(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      brokers: { type: 'string' },
      producers: { type: 'string', default: '4' },
      edges: { type: 'string', default: '1000' },
      'mqtt-ca': { type: 'string' },
      'mqtt-cert-dir': { type: 'string' },
      'connect-rate': { type: 'string', default: '500' },
      speed: { type: 'string', default: '1' },
      seconds: { type: 'string' },
      'alarm-storm-at': { type: 'string' },
      'reconnect-storm-at': { type: 'string' },
      'log-lines-per-second': { type: 'string', default: '0' },
      'log-batch-seconds': { type: 'string', default: '5' },
      'log-run': { type: 'string' },
      'log-factor': { type: 'string', default: '1' },
      'log-burst-at': { type: 'string' },
      'log-burst-seconds': { type: 'string', default: '10' },
      transport: { type: 'string', default: 'mqtt' },
      workload: { type: 'string', default: 'compact' },
      'report-json': { type: 'boolean', default: false },
    },
  });
  const { transport, workload } = values;
  if (transport !== 'mqtt' && transport !== 'kafka')
    throw new RangeError(`--transport must be mqtt or kafka, got ${JSON.stringify(transport)}`);
  if (workload !== 'compact' && workload !== 'legacy')
    throw new RangeError(`--workload must be compact or legacy, got ${JSON.stringify(workload)}`);
  const url = values.url ?? process.env.MQTT_URL;
  const brokers = (values.brokers ?? process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  if (transport === 'mqtt' && !url)
    throw new RangeError(`simulate needs --url / MQTT_URL\n\n${simulateHelp}`);
  if (transport === 'kafka' && brokers.length === 0)
    throw new RangeError(`simulate --transport kafka needs --brokers / KAFKA_BROKERS\n\n${simulateHelp}`);
  const edges = Number(values.edges);
  if (!Number.isInteger(edges) || edges < 1)
    throw new RangeError(`--edges must be a positive integer, got ${values.edges}`);
  const connectRate = Number(values['connect-rate']);
  if (!Number.isInteger(connectRate) || connectRate < 1)
    throw new RangeError(`--connect-rate must be a positive integer, got ${values['connect-rate']}`);
  const mqttTls = simulatorTls(values['mqtt-ca'], values['mqtt-cert-dir']);
  const logRate = Number(values['log-lines-per-second']);
  if (!(logRate >= 0))
    throw new RangeError(`--log-lines-per-second must be ≥ 0, got ${values['log-lines-per-second']}`);
  const logs =
    logRate === 0
      ? undefined
      : {
          linesPerSecond: logRate,
          batchSeconds: Number(values['log-batch-seconds']),
          runId: values['log-run'] ?? `run${Date.now().toString(36)}`,
          factor: Number(values['log-factor']),
        };
  const simulator = new Simulator({
    transport,
    workload,
    url,
    brokers,
    producers: Number(values.producers),
    edges,
    password: simulatedPassword,
    speed: Number(values.speed),
    connectRate,
    ...(mqttTls === undefined ? {} : { mqttTls }),
    ...(logs === undefined ? {} : { logs }),
  });
  return { values: { ...values, transport, workload }, simulator, edges };
}

/**
 * Stops the simulation and exits: bounded like every long-running command's stop
 * (cli/shutdown.ts), so a broker that is gone cannot keep the simulator alive; a second call (a
 * second Ctrl-C) exits at once. With `json`, the last line has every edge's count.
 */
function stopper(
  sim: Simulator,
  { json, timers }: { json: boolean; timers: NodeJS.Timeout[] },
): () => Promise<void> {
  let stopping = false;
  return async () => {
    if (stopping) process.exit(130);
    stopping = true;
    for (const timer of timers) clearInterval(timer);
    setTimeout(() => {
      process.stderr.write(`\n[simulate] stop did not finish within ${SIMULATE_STOP_MS} ms; exiting\n`);
      process.exit(1);
    }, SIMULATE_STOP_MS).unref();
    await sim.stop();
    process.stderr.write('\n');
    if (json)
      process.stdout.write(
        `${JSON.stringify({ done: true, ...sim.stats, ...sim.logs?.stats, sentPerEdge: sim.sentPerEdge() })}\n`,
      );
    process.exit(0);
  };
}

/** The simulated edges' TLS: the CA file, and each edge's certificate and key from `certDir`. */
function simulatorTls(caFile: string | undefined, certDir: string | undefined): SimMqttTls | undefined {
  if (caFile === undefined) {
    if (certDir !== undefined) throw new RangeError('--mqtt-cert-dir needs --mqtt-ca');
    return undefined;
  }
  const ca = readFileSync(caFile, 'utf8');
  if (certDir === undefined) return { ca };
  return {
    ca,
    certificate: (id) => ({
      cert: readFileSync(join(certDir, `${id}.crt`), 'utf8'),
      key: readFileSync(join(certDir, `${id}.key`), 'utf8'),
    }),
  };
}
