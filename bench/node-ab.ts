/**
 * A paired A/B of two hub nodes in one `actors`-style run: both nodes share the same Redis, the
 * same load and the same moments of machine noise, each holding about half the shards, so their
 * CPU µs per message compare as a ratio even on a busy shared machine. Each node may come from
 * its own source tree (a copy of the previous commit, for a code change) and get its own Node
 * flags (for a V8 flag) and its own settings (environment variables, e.g. DH_CHECKPOINT_MS).
 * Decision 041 used it; not part of `npm run bench`.
 *
 *   node --import tsx bench/node-ab.ts --edges 3000 --seconds 20 \
 *     [--a-tree /tmp/before] [--a-args=--max-semi-space-size=32] [--a-env DH_CHECKPOINT_MS=10000] \
 *     [--b-tree .] [--b-args=…] [--b-env NAME=VALUE,…]
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { NodeStats } from '../actors/mod.ts';
import type { HubProcess, HubProcessOptions } from '../infra/mod.ts';
import { startBenchCluster } from './cluster.ts';
import { sleep } from './scenarios/common.ts';

const { values } = parseArgs({
  options: {
    edges: { type: 'string', default: '3000' },
    seconds: { type: 'string', default: '20' },
    'a-tree': { type: 'string', default: '.' },
    'a-args': { type: 'string', default: '' },
    'b-tree': { type: 'string', default: '.' },
    'b-args': { type: 'string', default: '' },
    'a-env': { type: 'string', default: '' },
    'b-env': { type: 'string', default: '' },
  },
});

/** `NAME=VALUE,NAME=VALUE` as an environment for a node. */
function envOf(option: string, text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of text.split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at < 1) throw new RangeError(`--${option}: NAME=VALUE pairs separated by commas, got "${pair}"`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}
const envs = { a: envOf('a-env', values['a-env']), b: envOf('b-env', values['b-env']) };
const edges = Number(values.edges);
const seconds = Number(values.seconds);

/** Starts a node from `tree`'s own infra/ (so its own code runs) with Node flags `args`. */
async function startNode(tree: string, args: string, o: HubProcessOptions): Promise<HubProcess> {
  const infra = (await import(resolve(tree, 'infra/hub-process.ts'))) as {
    spawnHubNode: (o: HubProcessOptions) => HubProcess;
  };
  process.env.DH_NODE_ARGS = args;
  const node = infra.spawnHubNode(o);
  await node.ready;
  return node;
}

await using cluster = await startBenchCluster();
const common = {
  redisUrl: cluster.server.url,
  prefix: cluster.bus.keyspace.prefix,
  shards: cluster.bus.keyspace.shards,
  logLevel: 'warn',
};
const nodes = [
  await startNode(values['a-tree'], values['a-args'], { ...common, nodeId: 'a', env: envs.a }),
  await startNode(values['b-tree'], values['b-args'], { ...common, nodeId: 'b', env: envs.b }),
];
try {
  const load = cluster.startLoad(edges, seconds + 5);
  await sleep(5000);
  const byNode = (stats: NodeStats[]) => new Map(stats.map((s) => [s.node, s]));
  const before = byNode(await cluster.stats());
  await sleep(seconds * 1000);
  const after = byNode(await cluster.stats());
  const perNode = ['a', 'b'].map((id) => {
    const b = before.get(id)!;
    const a = after.get(id)!;
    const handled = a.handled - b.handled;
    return {
      node: id,
      handled,
      cpuMicrosPerMsg: Number(((a.cpuMicros - b.cpuMicros) / handled).toFixed(2)),
      // What a V8 flag about the heap costs in memory: the node's RSS at the end of the window.
      rssMb: Math.round(a.rssBytes / 1e6),
    };
  });
  const [a, b] = perNode as [(typeof perNode)[0], (typeof perNode)[0]];
  process.stdout.write(
    `${JSON.stringify({ edges, seconds, a: { ...a, tree: values['a-tree'], args: values['a-args'], env: envs.a }, b: { ...b, tree: values['b-tree'], args: values['b-args'], env: envs.b }, bOverA: Number((b.cpuMicrosPerMsg / a.cpuMicrosPerMsg).toFixed(3)) })}\n`,
  );
  load.stop();
  await load.done.catch(() => undefined);
} finally {
  await Promise.all(nodes.map((n) => Promise.race([n.stop(), sleep(5000).then(() => n.kill('SIGKILL'))])));
}
