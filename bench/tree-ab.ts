/**
 * Alternated runs of one benchmark on two source trees: an earlier commit (extracted with `git
 * archive`, this checkout's node_modules linked in) and the working tree, old then new, `--pairs`
 * times. On a shared 2-core machine one run's figures move 10–20 % with no change to the code
 * (bench/README.md): a change of a few per cent shows only over many pairs taken in the same
 * hour, and only as a paired comparison. Writes `tree-ab.{json,md,svg}` (per-pair values,
 * means, medians, the geometric mean of the pairs' new ÷ old). Not part of `npm run bench`.
 *
 *   node bench/tree-ab.ts --before 39ac562 --pairs 6 [--fields cpuMicrosPerMsg,floorRatio] \
 *     [--out bench/results] -- ingest --edges 5000 --transport mqtt --workload legacy --seconds 30
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { writeReport } from './report.ts';
import { pairsTable, type RunPair, summarizePairs } from './tree-ab-summary.ts';

const DEFAULT_FIELDS =
  'cpuMicrosPerMsg,cpuMicrosPerMsgLinks,cpuMicrosPerMsgNodes,floorMicrosPerMsg,floorRatio';

/** Runs `command args` in `cwd`; rejects with its output when it fails (a run's progress can be long). */
const run = (command: string, args: readonly string[], cwd: string) =>
  promisify(execFile)(command, args, { cwd, maxBuffer: 64 * 1024 * 1024 });

/** The old tree: `rev` of this repository in a temporary folder, sharing this checkout's node_modules. */
async function extract(rev: string, repo: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tree-ab-'));
  try {
    const tar = join(dir, '.tree.tar');
    await run('git', ['archive', '--format=tar', '-o', tar, rev], repo);
    await run('tar', ['-xf', tar, '-C', dir], repo);
    rmSync(tar);
    symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
    return dir;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** One benchmark run in `tree`, its report under `out`; its JSON result. */
async function benchOnce(
  tree: string,
  benchArgs: readonly string[],
  out: string,
): Promise<Record<string, unknown>> {
  await run('npm', ['run', '--silent', 'bench', '--', ...benchArgs, '--out', out], tree);
  const json = readdirSync(out).filter((f) => f.endsWith('.json'));
  if (json.length !== 1)
    throw new Error(`tree-ab: expected one JSON report in ${out}, found ${json.join(', ')}`);
  return JSON.parse(readFileSync(join(out, json[0]!), 'utf8')) as Record<string, unknown>;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      before: { type: 'string' },
      pairs: { type: 'string', default: '5' },
      fields: { type: 'string', default: DEFAULT_FIELDS },
      out: { type: 'string', default: 'bench/results' },
    },
  });
  const pairs = Number(values.pairs);
  if (values.before === undefined)
    throw new Error('tree-ab: --before <git revision> (the old tree) is required');
  if (!Number.isInteger(pairs) || pairs < 1)
    throw new RangeError(`tree-ab: --pairs must be ≥ 1, got ${values.pairs}`);
  if (positionals.length === 0)
    throw new Error('tree-ab: the benchmark to run goes after `--`, e.g. -- ingest --seconds 30');
  const repo = resolve('.');
  const fields = values.fields.split(',').filter((f) => f !== '');
  const old = await extract(values.before, repo);
  const scratch = mkdtempSync(join(tmpdir(), 'tree-ab-out-'));
  const runs: RunPair[] = [];
  /** Pair i's run on one tree, with a progress line before and after. */
  const runOn = async (i: number, name: 'old' | 'new', tree: string) => {
    const which = name === 'old' ? values.before : 'working tree';
    process.stderr.write(`tree-ab: pair ${i}/${pairs}, ${name} tree (${which})…\n`);
    const result = await benchOnce(tree, positionals, join(scratch, `${name}-${i}`));
    const shown = fields.map((f) => `${f} ${String(result[f])}`).join(', ');
    process.stderr.write(`tree-ab: pair ${i}/${pairs}, ${name}: ${shown}\n`);
    return result;
  };
  try {
    for (let i = 1; i <= pairs; i++)
      runs.push({ old: await runOn(i, 'old', old), new: await runOn(i, 'new', repo) });
  } finally {
    rmSync(old, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
  const summaries = summarizePairs(runs, fields);
  // The JSON and the plot (each field's new ÷ old per pair) through the benchmarks' report; the
  // Markdown is the pairs' table (there is no target to meet here).
  writeReport({
    dir: values.out,
    scenario: 'tree-ab',
    result: { before: values.before, bench: positionals, pairs: runs, summaries },
    targets: [],
    plot: {
      xLabel: 'pair',
      x: runs.map((_, i) => i + 1),
      charts: summaries.map((s) => ({
        label: `${s.field}, new ÷ old`,
        values: s.pairs.map(([o, n]) => n / o),
      })),
    },
  });
  const table = pairsTable(summaries);
  writeFileSync(
    join(values.out, 'tree-ab.md'),
    `### tree-ab: ${positionals.join(' ')}, ${values.before} → working tree\n\n${table}`,
  );
  process.stdout.write(`${table}\nwritten: ${values.out}/tree-ab.{json,md,svg}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
