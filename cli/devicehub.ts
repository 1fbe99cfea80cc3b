#!/usr/bin/env -S npx tsx
/**
 * The one command line of DeviceHub: `devicehub <command> [options]`. Each command is loaded
 * only when it runs (`devicehub agent` loads nothing of the hub), answers its own `--help`, and
 * a usage error — an unknown command, an unknown option, a missing option value — exits 2 with a
 * line naming it; any other failure exits 1 with its message.
 */
import { type CommandName, checkEnvironment } from './settings.ts';

interface Command {
  /** Its options, for `devicehub <command> --help`. */
  help(): Promise<string>;
  run(argv: string[]): Promise<void>;
  /** Checks its environment against the settings schema before it runs. */
  readonly checked: boolean;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  demo: {
    help: async () => (await import('./demo.ts')).demoHelp,
    run: async (argv) => (await import('./demo.ts')).demoCommand(argv),
    checked: true,
  },
  node: {
    help: async () => (await import('./node-command.ts')).nodeHelp,
    run: async (argv) => (await import('./node-command.ts')).nodeCommand(argv),
    checked: true,
  },
  link: {
    help: async () => (await import('./link-command.ts')).linkHelp,
    run: async (argv) => (await import('./link-command.ts')).linkCommand(argv),
    checked: true,
  },
  gateway: {
    help: async () => (await import('./gateway-command.ts')).gatewayHelp,
    run: async (argv) => (await import('./gateway-command.ts')).gatewayCommand(argv),
    checked: true,
  },
  simulate: {
    help: async () => (await import('./simulate-command.ts')).simulateHelp,
    run: async (argv) => (await import('./simulate-command.ts')).simulateCommand(argv),
    checked: true,
  },
  agent: {
    help: async () => (await import('./agent-command.ts')).agentHelp,
    run: async (argv) => (await import('./agent-command.ts')).agentCommand(argv),
    checked: true,
  },
  clips: {
    help: async () => (await import('./clips-command.ts')).clipsHelp,
    run: async (argv) => (await import('./clips-command.ts')).clipsCommand(argv),
    checked: true,
  },
  recognize: {
    help: async () => (await import('./recognize-command.ts')).recognizeHelp,
    run: async (argv) => (await import('./recognize-command.ts')).recognizeCommand(argv),
    checked: true,
  },
  connect: {
    help: async () => (await import('./connect-command.ts')).connectHelp,
    run: async (argv) => (await import('./connect-command.ts')).connectCommand(argv),
    checked: false,
  },
  cluster: {
    help: async () => (await import('./cluster-command.ts')).clusterHelp,
    run: async (argv) => (await import('./cluster-command.ts')).clusterCommand(argv),
    checked: true,
  },
  bench: {
    help: async () => (await import('../bench/mod.ts')).benchHelp,
    run: async (argv) => (await import('../bench/mod.ts')).benchCommand(argv),
    checked: false,
  },
  seed: {
    help: async () => (await import('./seed-command.ts')).seedHelp,
    run: async (argv) => (await import('./seed-command.ts')).seedCommand(argv),
    checked: false,
  },
  'ezviz-standin': {
    help: async () => (await import('./ezviz-standin-command.ts')).ezvizStandinHelp,
    run: async (argv) => (await import('./ezviz-standin-command.ts')).ezvizStandinCommand(argv),
    checked: false,
  },
};

const commandList = `DeviceHub — a device hub for fleets of elevator edge boxes

usage: devicehub <command> [options]

commands:
  demo        a local cluster (Redis, 2 hub nodes, 1,000 simulated edges) with a live table
  node        run one hub node
  link        run a hub-side link to the edges: mqtt | kafka
  gateway     the HTTP API for the web backend and operators
  simulate    thousands of simulated edges against a broker
  clips       an alarm clip worker: Ezviz recordings → checked clips in the object store
  recognize   a recognition worker: vision alarms' frames through the model → verdicts to the edges
  agent       the on-device agent (configuration file and DH_AGENT_* environment)
  connect     stdio through a multiplexed tunnel (for ssh's ProxyCommand)
  cluster     the docker-compose topology as local processes (nodes, gateways, Redis, Kafka, …)
  seed        a synthetic alarm history for benchmarks: seed alarms --rows N --months M [--edges E]
  ezviz-standin  a stand-in for the Ezviz cloud (alarm clips), for tests and the demo only
  bench       run a benchmark scenario: actors | rebalance | failover | rolling | diet | ingest | gateway | outbox | tunnel
  help        this text; \`devicehub <command> --help\` (or \`devicehub help <command>\`) for a command's options`;

/** The general help: the command list, then the options of the commands run most. */
async function help(): Promise<string> {
  const [node, link, simulate] = await Promise.all(
    (['node', 'link', 'simulate'] as const).map((name) => COMMANDS[name]!.help()),
  );
  return `${commandList}\n\n${node}\n\n${link}\n\n${simulate}\n`;
}

/** A mistake in how the command line was written (exit 2, as shells and getopt have it). */
class UsageError extends Error {
  readonly code = 'USAGE';
  /** Printed after the message: where the command's options are (else the general help). */
  readonly seeAlso: string | undefined;
  constructor(message: string, seeAlso?: string) {
    super(message);
    this.seeAlso = seeAlso;
  }
}

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h';

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || isHelp(name)) return void console.log(await help());
  if (name === 'help') {
    const topic = rest.find((arg) => !isHelp(arg));
    if (topic === undefined) return void console.log(await help());
    const command = COMMANDS[topic];
    if (command === undefined) throw new UsageError(`devicehub: unknown command "${topic}"`);
    return void console.log(await command.help());
  }
  const command = COMMANDS[name];
  if (command === undefined) throw new UsageError(`devicehub: unknown command "${name}"`);
  if (rest.some(isHelp)) return void console.log(await command.help());
  if (command.checked) checkEnvironment(name as CommandName, process.env);
  try {
    await command.run(rest);
  } catch (error) {
    // node:util parseArgs: an unknown option, a missing value, a stray positional.
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_'))
      throw new UsageError(
        `devicehub ${name}: ${(error as Error).message.split('. ')[0]}`,
        `\`devicehub ${name} --help\` lists its options.`,
      );
    throw error;
  }
}

main(process.argv.slice(2)).catch(async (error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n\n${error.seeAlso ?? (await help())}`);
    process.exit(2);
  }
  console.error(`devicehub: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
