#!/usr/bin/env -S npx tsx
/**
 * The one command line of DeviceHub: `devicehub <command> [options]`.
 */
import { linkCommand, linkHelp } from './link-command.ts';
import { nodeCommand, nodeHelp } from './node-command.ts';
import { type CommandName, checkEnvironment } from './settings.ts';
import { simulateCommand, simulateHelp } from './simulate-command.ts';

const help = `DeviceHub — a device hub for fleets of elevator edge boxes

usage: devicehub <command> [options]

commands:
  demo        a local cluster (Redis, 2 hub nodes, 1,000 simulated edges) with a live table
  node        run one hub node
  link        run a hub-side link to the edges: mqtt | kafka
  gateway     the HTTP API for the web backend and operators
  simulate    thousands of simulated edges against a broker
  connect     stdio through a multiplexed tunnel (for ssh's ProxyCommand)
  cluster     the docker-compose topology as local processes (nodes, gateways, Redis, Kafka, …)
  bench       run a benchmark scenario: actors | rebalance | failover | rolling | diet | ingest | gateway | outbox | tunnel
  help        this text; \`devicehub <command> --help\` for a command's options

${nodeHelp}

${linkHelp}

${simulateHelp}
`;

const CHECKED = new Set<CommandName>(['node', 'link', 'gateway', 'simulate', 'demo', 'cluster']);

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (rest.includes('--help') || rest.includes('-h')) {
    if (command === 'bench') console.log((await import('../bench/mod.ts')).benchHelp);
    else if (command === 'demo') console.log((await import('./demo.ts')).demoHelp);
    else if (command === 'gateway') console.log((await import('./gateway-command.ts')).gatewayHelp);
    else if (command === 'cluster') console.log((await import('./cluster-command.ts')).clusterHelp);
    else console.log(help);
    return;
  }
  if (CHECKED.has(command as CommandName)) checkEnvironment(command as CommandName, process.env);
  switch (command) {
    case 'cluster':
      return (await import('./cluster-command.ts')).clusterCommand(rest);
    case 'node':
      return nodeCommand(rest);
    case 'link':
      return linkCommand(rest);
    case 'simulate':
      return simulateCommand(rest);
    case 'gateway':
      return (await import('./gateway-command.ts')).gatewayCommand(rest);
    case 'demo':
      return (await import('./demo.ts')).demoCommand(rest);
    case 'bench':
      return (await import('../bench/mod.ts')).benchCommand(rest);
    case 'connect':
      return (await import('./connect-command.ts')).connectCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(help);
      return;
    default:
      console.error(`devicehub: unknown command "${command}"\n\n${help}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`devicehub: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
