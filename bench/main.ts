/**
 * `npm run bench -- <scenario> [--edges N] [--nodes N] [--seconds S] [--out DIR]`
 * Prints a progress line while it runs, then a table; writes DIR/<scenario>.{json,md,svg}.
 */
import { parseArgs } from 'node:util';
import { writeReport } from './report.ts';
import { actorsScenario } from './scenarios/actors.ts';
import type { ScenarioOptions, ScenarioResult } from './scenarios/common.ts';
import { dietScenario } from './scenarios/diet.ts';
import { failoverScenario } from './scenarios/failover.ts';
import { rebalanceScenario } from './scenarios/rebalance.ts';

const scenarios: Record<string, (o: ScenarioOptions) => Promise<ScenarioResult>> = {
  actors: actorsScenario,
  rebalance: rebalanceScenario,
  failover: failoverScenario,
  diet: dietScenario,
};

export const benchHelp = `devicehub bench <scenario> [options]

scenarios (each runs Redis, every hub node and the load generator as separate processes):
  actors      N edges at the legacy rate (1.3 msg/s/edge) → latency, CPU per message, loss
  rebalance   2 nodes under load get a 3rd → share moved, settle time, loss
  failover    one of 3 nodes is kill -9ed under load → per-edge resume time, loss
  diet        one edge's simulated day, legacy JSON/Kafka vs compact/MQTT → bytes, messages, state

options:
  --edges N     simulated edges (default 5000)
  --nodes N     hub nodes for "actors" (default 2)
  --seconds S   measured seconds (default 30)
  --out DIR     where results go (default bench/results)`;

export async function benchCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      edges: { type: 'string', default: '5000' },
      nodes: { type: 'string', default: '2' },
      seconds: { type: 'string', default: '30' },
      out: { type: 'string', default: 'bench/results' },
    },
  });
  const name = positionals[0];
  const run = name === undefined ? undefined : scenarios[name];
  if (run === undefined)
    throw new RangeError(
      `Unknown bench scenario "${name ?? ''}"; one of: ${Object.keys(scenarios).join(', ')}`,
    );
  const options: ScenarioOptions = {
    edges: Number(values.edges),
    nodes: Number(values.nodes),
    seconds: Number(values.seconds),
  };
  for (const [key, value] of Object.entries(options)) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`--${key} must be a positive integer, got ${value}`);
  }
  console.error(
    name === 'diet'
      ? 'bench diet: one simulated day…'
      : `bench ${name}: ${options.edges} edges, ${options.seconds} s…`,
  );
  const { result, targets, plot } = await run(options);
  const table = writeReport(values.out, name!, result, targets, plot);
  console.log(`\n${table}\n${JSON.stringify(result)}\nwritten: ${values.out}/${name}.{json,md,svg}`);
}
