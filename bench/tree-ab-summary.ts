/**
 * What alternated runs of two source trees say (tree-ab.ts): per pair the old and the new value
 * of each field, then the means, the medians and the geometric mean of the pairs' new ÷ old, and
 * how many pairs went the other way. Pure: tree-ab.ts feeds it the runs' JSON results.
 */
import { median } from './quantile.ts';

/** One pair: the same benchmark run on the old tree, then on the new. */
export interface RunPair {
  readonly old: Readonly<Record<string, unknown>>;
  readonly new: Readonly<Record<string, unknown>>;
}

export interface FieldSummary {
  readonly field: string;
  /** Per pair, [old, new]. */
  readonly pairs: readonly (readonly [number, number])[];
  readonly meanOld: number;
  readonly meanNew: number;
  readonly medianOld: number;
  readonly medianNew: number;
  /** Geometric mean of new ÷ old over the pairs: below 1, the new tree measured less. */
  readonly geoMeanRatio: number;
  /** Pairs where the new tree measured more than the old. */
  readonly newHigher: number;
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

function numberAt(result: Readonly<Record<string, unknown>>, field: string, where: string): number {
  const value = result[field];
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new RangeError(
      `tree-ab: ${where} has no positive number "${field}" (got ${JSON.stringify(value)})`,
    );
  return value;
}

/** Summarizes `fields` over the pairs; throws a RangeError naming a run without one of them. */
export function summarizePairs(pairs: readonly RunPair[], fields: readonly string[]): FieldSummary[] {
  if (pairs.length === 0) throw new RangeError('tree-ab: no pairs to summarize');
  return fields.map((field) => {
    const values = pairs.map(
      (p, i) =>
        [
          numberAt(p.old, field, `pair ${i + 1}, old tree`),
          numberAt(p.new, field, `pair ${i + 1}, new tree`),
        ] as const,
    );
    const olds = values.map(([o]) => o);
    const news = values.map(([, n]) => n);
    return {
      field,
      pairs: values,
      meanOld: mean(olds),
      meanNew: mean(news),
      medianOld: median(olds),
      medianNew: median(news),
      geoMeanRatio: Math.exp(mean(values.map(([o, n]) => Math.log(n / o)))),
      newHigher: values.filter(([o, n]) => n > o).length,
    };
  });
}

const two = (n: number) => n.toFixed(2);

/** The pairs as a Markdown table (one column per field, `old → new`), then mean and median rows. */
export function pairsTable(summaries: readonly FieldSummary[]): string {
  const n = summaries[0]?.pairs.length ?? 0;
  const head = `| pair | ${summaries.map((s) => `${s.field} old → new`).join(' | ')} |`;
  const rule = `| ---: | ${summaries.map(() => '---').join(' | ')} |`;
  const rows = Array.from({ length: n }, (_, i) => {
    const cells = summaries.map((s) => `${two(s.pairs[i]![0])} → ${two(s.pairs[i]![1])}`);
    return `| ${i + 1} | ${cells.join(' | ')} |`;
  });
  const means = `| mean | ${summaries.map((s) => `**${two(s.meanOld)} → ${two(s.meanNew)}**`).join(' | ')} |`;
  const med = `| median | ${summaries.map((s) => `${two(s.medianOld)} → ${two(s.medianNew)}`).join(' | ')} |`;
  const geo = summaries
    .map((s) => `${s.field} ${s.geoMeanRatio.toFixed(3)} (new higher in ${s.newHigher} of ${n})`)
    .join('; ');
  return [
    head,
    rule,
    ...rows,
    means,
    med,
    '',
    `Geometric mean of new ÷ old over the pairs: ${geo}.`,
    '',
  ].join('\n');
}
