/**
 * How much a simulated fleet sends, minute by minute of its days, without a broker: N edges of the
 * compact workload stepped through S simulated seconds (`advance`, as the simulator's pace does),
 * their messages counted per edge and second, by minute and by kind, and the busiest second after
 * the first. Where a benchmark's window falls in the days decides the load it measures.
 *
 *   node --import tsx bench/sim-rate.ts [--edges 5000] [--seconds 240]
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { advance, createSimEdge, type Outgoing } from '../edge/sim/sim-edge.ts';

export interface SimRate {
  /** Messages per edge per second in each minute of the days (the first second, every birth-time snapshot, included). */
  readonly perMinute: number[];
  /** Messages per edge per second by kind (`status-snapshot`, `status-change`, …), after the first second. */
  readonly byKind: Record<string, number>;
  /** The most messages in one second after the first. */
  readonly busiestSecond: number;
}

const kindOf = (out: Outgoing): string =>
  'legacy' in out
    ? 'legacy'
    : out.compact.kind === 'status'
      ? out.compact.snapshot
        ? 'status-snapshot'
        : 'status-change'
      : out.compact.kind;

export function simRate(edges: number, seconds: number): SimRate {
  const fleet = Array.from({ length: edges }, (_, i) =>
    createSimEdge(i, { id: `E-${i}`, workload: 'compact', boot: 'rate', client: undefined }),
  );
  const start = 1_700_000_000_000;
  const perSecond: number[] = [];
  const kinds: Record<string, number> = {};
  for (let t = 0; t < seconds; t++) {
    let sent = 0;
    for (const edge of fleet)
      advance(edge, start + t * 1000, (_edge, out) => {
        sent++;
        if (t === 0) return;
        const kind = kindOf(out);
        kinds[kind] = (kinds[kind] ?? 0) + 1;
      });
    perSecond.push(sent);
  }
  const perMinute: number[] = [];
  for (let m = 0; m * 60 < seconds; m++) {
    const slice = perSecond.slice(m * 60, (m + 1) * 60);
    perMinute.push(slice.reduce((a, b) => a + b, 0) / slice.length / edges);
  }
  const byKind = Object.fromEntries(
    Object.entries(kinds).map(([k, n]) => [k, n / edges / Math.max(1, seconds - 1)]),
  );
  return { perMinute, byKind, busiestSecond: Math.max(0, ...perSecond.slice(1)) };
}

function main(): void {
  const { values } = parseArgs({
    options: { edges: { type: 'string', default: '5000' }, seconds: { type: 'string', default: '240' } },
  });
  const edges = Number(values.edges);
  const seconds = Number(values.seconds);
  if (!(Number.isInteger(edges) && edges > 0 && Number.isInteger(seconds) && seconds > 1))
    throw new RangeError('sim-rate: --edges must be a positive integer and --seconds an integer > 1');
  const r = simRate(edges, seconds);
  const lines = [
    '| minute of the days | messages per edge per second |',
    '| ---: | ---: |',
    ...r.perMinute.map((rate, m) => `| ${m + 1} | ${rate.toFixed(4)} |`),
    '',
    '| kind (after the first second) | per edge per second |',
    '| --- | ---: |',
    ...Object.entries(r.byKind).map(([k, rate]) => `| ${k} | ${rate.toFixed(4)} |`),
    '',
    `busiest second after the first: ${r.busiestSecond} messages from ${edges} edges`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
