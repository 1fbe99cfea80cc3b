/**
 * One load process of the `rollout` benchmark: `--count` simulated edges (ids from `--from`), each
 * with its own MQTT connection and password, the compact workload, and the simulator's updater
 * (edge/sim/sim-updater.ts): the agent's own TUF client per edge and its downloader through the
 * edge's two mirrors ranked by rendezvous, simulated installs.
 *
 *   node --import tsx bench/rollout-load.ts --url mqtt://… --from 0 --count 1250 --mirrors URL,URL
 *     --metadata-url URL --root-file FILE --data-dir DIR [--install-ms 200]
 *
 * Talks to its parent over the IPC channel: sends `{type:'progress', …}` every second (connected,
 * commands, bytes verified, finished per rollout, errors) and answers `{type:'summary'}` with the
 * times each edge reported healthy and the edges commanded, per rollout; takes `{type:'fail', version, edges}` (those edges'
 * installs of that version miss their health gate) and `{type:'stop'}`.
 */
import { parseArgs } from 'node:util';
import { downloadArtifact, openTufClient } from '../edge/agent/updates/mod.ts';
import { rankByRendezvous, Simulator, simulatedEdgeId } from '../edge/mod.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    from: { type: 'string', default: '0' },
    count: { type: 'string' },
    mirrors: { type: 'string' },
    'metadata-url': { type: 'string' },
    'root-file': { type: 'string' },
    'data-dir': { type: 'string' },
    'install-ms': { type: 'string', default: '200' },
    'connect-rate': { type: 'string', default: '500' },
  },
});
for (const required of ['url', 'count', 'mirrors', 'metadata-url', 'root-file', 'data-dir'] as const)
  if (values[required] === undefined) throw new Error(`rollout-load: --${required} is required`);
if (process.send === undefined) throw new Error('rollout-load: run me with an IPC channel');

const from = Number(values.from);
const pool = values.mirrors!.split(',').map((id) => ({ id, weight: 1 }));
/** Version → edge ids whose install of it fails its health gate. */
const failing = new Map<string, Set<string>>();

const sim = new Simulator({
  edges: Number(values.count),
  url: values.url!,
  workload: 'compact',
  edgeId: (i) => simulatedEdgeId(from + i),
  connectRate: Number(values['connect-rate']),
  updates: {
    mirrors: (edgeId) => rankByRendezvous(edgeId, pool).map((m) => m.id),
    openTuf: (_edgeId, dir, onRetry) =>
      openTufClient({
        metadataUrl: values['metadata-url']!,
        dataDir: dir,
        rootFile: values['root-file']!,
        onRetry,
      }),
    download: downloadArtifact,
    dataDir: values['data-dir']!,
    installMs: Number(values['install-ms']),
    failInstall: (edgeId, { target }) => failing.get(target.version)?.has(edgeId) === true,
  },
});

const send = (message: Record<string, unknown>) => process.send?.(message);
const updates = sim.updater!;
const progress = () => {
  const rollouts: Record<string, { healthy: number; rolledBack: number; failed: number }> = {};
  for (const [id, r] of updates.stats.rollouts)
    rollouts[id] = { healthy: r.healthy, rolledBack: r.rolledBack, failed: r.failed };
  send({
    type: 'progress',
    connected: sim.stats.connected,
    publishErrors: sim.stats.publishErrors,
    commands: updates.stats.commands,
    bytesVerified: updates.stats.bytesVerified,
    rollouts,
    errors: Object.fromEntries(updates.stats.errors),
    reasons: updates.stats.reasons,
    tufRetries: updates.stats.tufRetries,
  });
};

process.on('message', (m: { type: string; version?: string; edges?: string[] }) => {
  if (m.type === 'fail') failing.set(m.version!, new Set(m.edges));
  else if (m.type === 'summary') {
    progress();
    const rollouts: Record<string, { healthyAt: number[]; commanded: string[] }> = {};
    for (const [id, r] of updates.stats.rollouts)
      rollouts[id] = { healthyAt: r.healthyAt, commanded: r.commanded };
    send({ type: 'summary', rollouts });
  } else if (m.type === 'stop') void stop();
});
process.once('SIGTERM', () => void stop());
process.once('disconnect', () => void stop());

const ticker = setInterval(progress, 1000);
let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  await sim.stop();
  process.exit(0);
}

await sim.start();
progress();
