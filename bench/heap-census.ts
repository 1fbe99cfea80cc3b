/**
 * Who holds a running process's strings: a heap snapshot over the inspector, its strings grouped
 * by what they look like (a stream id, JSON, concatenated, other) and by their retainer path (the
 * first three strong retainers; the parts of a concatenated string count with it). The snapshot
 * is taken after a full GC: it shows what is held, not what died since the last collection. Where `survivors.ts` says where the promoted memory was allocated, this says
 * what keeps it alive. The process must listen with `--inspect`.
 *
 *   DH_NODE_ARGS="--inspect=127.0.0.1:9341" npm run bench -- actors --seconds 50
 *   node --import tsx bench/heap-census.ts --port 9341 [--top 25]
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { openInspector } from './inspector.ts';

/** The parts of V8's heap snapshot this census reads. */
export interface HeapSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface CensusRow {
  /** The string's shape and type, then its first three retainers: `JSON (string) .[element] of Array .held of …`. */
  readonly path: string;
  readonly count: number;
  readonly bytes: number;
}

/** Takes a heap snapshot of the process whose inspector listens on `port` (after V8's full GC). */
export async function takeHeapSnapshot(port: number): Promise<HeapSnapshot> {
  const inspector = await openInspector(port);
  const chunks: string[] = [];
  inspector.on('HeapProfiler.addHeapSnapshotChunk', (params) =>
    chunks.push((params as { chunk: string }).chunk),
  );
  try {
    await inspector.call('HeapProfiler.enable');
    await inspector.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  } finally {
    inspector.close();
  }
  return JSON.parse(chunks.join('')) as HeapSnapshot;
}

const STRING_TYPES = new Set(['string', 'sliced string', 'concatenated string']);

function shapeOf(text: string): string {
  if (/^\d{10,}-\d+$/.test(text)) return 'stream id';
  if (text.startsWith('{') || text.startsWith('[')) return 'JSON';
  return 'other';
}

/** Strings by shape and retainer path, the most bytes first. */
export function stringCensus(heap: HeapSnapshot): CensusRow[] {
  const { meta } = heap.snapshot;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const typeAt = meta.node_fields.indexOf('type');
  const nameAt = meta.node_fields.indexOf('name');
  const sizeAt = meta.node_fields.indexOf('self_size');
  const edgeCountAt = meta.node_fields.indexOf('edge_count');
  const edgeTypeAt = meta.edge_fields.indexOf('type');
  const edgeNameAt = meta.edge_fields.indexOf('name_or_index');
  const toAt = meta.edge_fields.indexOf('to_node');
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const { nodes, edges, strings } = heap;
  const count = nodes.length / nf;
  // The first strong retainer of every node (weak edges and the snapshot's own roots left out).
  const retainer = new Int32Array(count).fill(-1);
  const via = new Array<string>(count);
  let e = 0;
  for (let n = 0; n < count; n++) {
    const edgeCount = nodes[n * nf + edgeCountAt]!;
    for (let i = 0; i < edgeCount; i++, e += ef) {
      const type = edgeTypes[edges[e + edgeTypeAt]!]!;
      if (type === 'weak' || type === 'shortcut') continue;
      const to = edges[e + toAt]! / nf;
      if (retainer[to] !== -1) continue;
      retainer[to] = n;
      const name = edges[e + edgeNameAt]!;
      via[to] = type === 'element' || type === 'hidden' ? `[${type}]` : String(strings[name] ?? name);
    }
  }
  const label = (n: number) => {
    const type = nodeTypes[nodes[n * nf + typeAt]!]!;
    const name = strings[nodes[n * nf + nameAt]!]!;
    return type === 'object' || type === 'closure' ? name : `(${type} ${name.slice(0, 24)})`;
  };
  const rows = new Map<string, { count: number; bytes: number }>();
  const isString = (n: number) => STRING_TYPES.has(nodeTypes[nodes[n * nf + typeAt]!]!);
  for (let n = 0; n < count; n++) {
    if (!isString(n)) continue;
    // A part of a concatenated (or the parent of a sliced) string is counted with the string
    // that holds it, at that string's retainers.
    let top = n;
    while (retainer[top]! !== -1 && isString(retainer[top]!)) top = retainer[top]!;
    const type = nodeTypes[nodes[top * nf + typeAt]!]!;
    const shape =
      type === 'concatenated string' ? 'concatenated' : shapeOf(strings[nodes[top * nf + nameAt]!]!);
    const steps = [`${shape} (${type})`];
    let at = top;
    for (let depth = 0; depth < 3 && retainer[at]! !== -1; depth++) {
      steps.push(`.${via[at]} of ${label(retainer[at]!)}`);
      at = retainer[at]!;
    }
    const path = steps.join(' ');
    const row = rows.get(path) ?? { count: 0, bytes: 0 };
    if (top === n) row.count++;
    row.bytes += nodes[n * nf + sizeAt]!;
    rows.set(path, row);
  }
  return [...rows].map(([path, r]) => ({ path, ...r })).sort((a, b) => b.bytes - a.bytes);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, top: { type: 'string', default: '25' } },
  });
  if (values.port === undefined) throw new Error('--port: the inspector port of the process to look into');
  process.stderr.write('heap-census: taking the snapshot…\n');
  const heap = await takeHeapSnapshot(Number(values.port));
  process.stderr.write('heap-census: counting…\n');
  const rows = stringCensus(heap);
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  process.stdout.write(`Strings in the heap: ${(total / 1e6).toFixed(1)} MB\n\n`);
  process.stdout.write('|    MB |   count | string < retained by |\n| ----: | ------: | --- |\n');
  for (const r of rows.slice(0, Number(values.top)))
    process.stdout.write(
      `| ${(r.bytes / 1e6).toFixed(2)} | ${r.count} | ${r.path.replaceAll('|', '\\|')} |\n`,
    );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
