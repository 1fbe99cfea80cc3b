/**
 * `devicehub agent`: the on-device agent as a process of its own (edge/agent/). It reads its
 * configuration file (JSON, `--config` or DH_AGENT_CONFIG), with the DH_AGENT_* variables over
 * it, runs the EdgeAgent — with the tunnel executor (frpc) when a tunnel token and frpc are
 * given, and the local input for elenet and litefcccore when a port is — until SIGTERM/SIGINT,
 * then stops within AGENT_STOP_MS. It loads nothing of the hub (edge/agent/standalone.test.ts).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  agentUpdates,
  EdgeAgent,
  type LocalInput,
  startLocalInput,
  TunnelExecutor,
} from '../edge/agent/mod.ts';
import { agentSetup } from './agent-setup.ts';
import { processLogger } from './logger.ts';
import { ConfigError } from './settings.ts';
import { stopOnSignals } from './shutdown.ts';

/** Longest graceful stop of the agent: the broker connection, frpc, the local input. */
const AGENT_STOP_MS = 10_000;

// The configuration file and the environment read into a setup: agent-setup.ts.
export { type AgentSetup, agentSetup } from './agent-setup.ts';

export const agentHelp = `devicehub agent --config FILE   the on-device agent: local input, compact uplink over MQTT
                                 or Kafka, store-and-forward on disk, configuration polling, tunnels
                                 (stops on SIGTERM/SIGINT within 10 s)

  --config FILE   its configuration, JSON (env DH_AGENT_CONFIG; required):
    edgeId, password          the edge's broker identity (env DH_AGENT_EDGE_ID, DH_AGENT_PASSWORD)
    birth                     { model, firmware, registrationCode, buildingId, elevatorNo,
                              camera?: { serial, channel } (the Ezviz camera, for alarm clips) }
    dataDir                   where the queue lives, kept across restarts (env DH_AGENT_DATA_DIR)
    brokerUrl                 mqtt://…, kafka://host:port,… or kafkas://host:port,… (SASL_SSL:
                              SCRAM-SHA-512 with edgeId and password, TLS checked against caFile)
                              until the configuration names one (env DH_AGENT_BROKER_URL)
    configUrl                 the configuration service, the gateway (env DH_AGENT_CONFIG_URL;
                              none: no polling); pollSeconds (60), longPollSeconds (30)
    caFile                    the CA its certificate must chain to, PEM: the fleet CA (env
                              DH_AGENT_CA_FILE; none: the system's CAs); http:// only to loopback;
                              also what an mqtts:// broker's certificate must chain to
    certFile, keyFile         the edge's client certificate and key, PEM (env DH_AGENT_CERT_FILE,
                              DH_AGENT_KEY_FILE): its identity on the broker's mTLS listener
    maxQueueBytes             the queue's bound on disk
    localPort                 loopback port of the local input (env DH_AGENT_LOCAL_PORT; 0: none)
    tunnels                   { frpc, token, serverAddr, services: { ssh: "127.0.0.1:22", … }, dir }
                              (env DH_AGENT_FRPC, DH_AGENT_TUNNEL_TOKEN; none: no tunnels);
                              frpc speaks TLS to frps, its certificate checked against caFile
    updates                   { mirrors: ["https://cdn-1:8443", …], metadataUrl, rootFile } until
                              the configuration names them: the update command installs into
                              A/B slots under dataDir/slots (docs/decisions/025-agent-install.md)
  The environment wins over the file. DH_LOG_LEVEL sets the log level (JSON lines on stdout).`;

export async function agentCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' } } });
  const path = values.config ?? process.env.DH_AGENT_CONFIG;
  if (path === undefined) throw new ConfigError(`Missing --config FILE (or DH_AGENT_CONFIG)\n\n${agentHelp}`);
  let file: unknown;
  try {
    file = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      `Cannot read the agent configuration ${path}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const setup = agentSetup(file, process.env, path);
  const log = processLogger('agent', { edgeId: setup.agent.edgeId });
  const executor = setup.tunnels
    ? new TunnelExecutor({
        edgeId: setup.agent.edgeId,
        ...setup.tunnels,
        // frpc speaks TLS to frps and checks its certificate against the same CA.
        ...(setup.caFile === undefined ? {} : { caFile: setup.caFile }),
        logger: log,
      })
    : undefined;
  const configTls = setup.caFile === undefined ? undefined : { ca: readFileSync(setup.caFile) };
  // An mqtts:// (or kafkas://) broker: the same CA, and the edge's certificate on the mTLS listener.
  const brokerTls = {
    ...configTls,
    ...(setup.client === undefined
      ? {}
      : { cert: readFileSync(setup.client.certFile), key: readFileSync(setup.client.keyFile) }),
  };
  const agent = new EdgeAgent({
    ...setup.agent,
    ...(configTls === undefined ? {} : { configTls }),
    brokerTls,
    executors: executor?.executors,
    // A self-update ends in a graceful stop: systemd starts the agent again from slots/current.
    ...(setup.updates === undefined
      ? {}
      : {
          updates: agentUpdates({
            ...setup.updates,
            dataDir: setup.agent.dataDir,
            ...(configTls === undefined ? {} : { ca: configTls.ca }),
            restart: () => process.kill(process.pid, 'SIGTERM'),
            log,
          }),
        }),
    logger: log,
  });
  let input: LocalInput | undefined;
  // Wired before the start: an agent whose broker is out of reach waits for it, and still stops.
  stopOnSignals({
    log,
    timeoutMs: AGENT_STOP_MS,
    steps: [
      { name: 'closing the local input', run: async () => input?.close() },
      { name: 'stopping the agent (what the broker has not taken stays on disk)', run: () => agent.stop() },
      { name: 'stopping the tunnels (frpc)', run: async () => executor?.stop() },
    ],
  });
  await agent.start();
  if (setup.localPort > 0) input = await startLocalInput(agent, { port: setup.localPort });
  log.info(
    { broker: agent.stats.brokerUrl, localInput: input?.url, tunnels: executor !== undefined },
    'agent started',
  );
  // A parent that spawned us over IPC (the demo, tests) learns we are up.
  process.send?.({ ready: true, edgeId: setup.agent.edgeId });
}
