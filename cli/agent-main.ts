/**
 * The agent's own entry point, what `npm run bundle:agent` bundles into dist/devicehub-agent.mjs
 * for the devices: `devicehub-agent [agent] --config FILE` runs `devicehub agent` (and nothing else
 * of devicehub), `--help` prints its options. Exit 1 on a failure, 2 on a usage mistake.
 */
import { agentCommand, agentHelp } from './agent-command.ts';

const argv = process.argv.slice(2);
if (argv[0] === 'agent') argv.shift();
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(`${agentHelp}\n`);
} else {
  agentCommand(argv).catch((error: unknown) => {
    const code = (error as { code?: unknown } | null)?.code;
    process.stderr.write(`devicehub agent: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_') ? 2 : 1);
  });
}
