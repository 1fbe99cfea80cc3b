/**
 * Benchmark results as people compare them: JSON for machines, a Markdown table for the note,
 * an SVG plot of throughput and p99 latency over the run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Plot {
  readonly xLabel: string;
  readonly x: readonly number[];
  readonly charts: readonly { readonly label: string; readonly values: readonly number[] }[];
}

export interface Target {
  readonly metric: string;
  readonly value: number;
  readonly target: string;
  readonly met: boolean;
}

/** A scenario's outcome and where its report goes. */
export interface ReportOptions {
  /** The folder the report files are written to. */
  readonly dir: string;
  /** The scenario's name: the files' base name and the table's title. */
  readonly scenario: string;
  /** The measured numbers, written as JSON. */
  readonly result: Record<string, unknown>;
  /** The targets, one table row each. */
  readonly targets: readonly Target[];
  readonly plot: Plot;
}

/** Writes `<scenario>.json`, `.md` and `.svg` under `dir`; returns the Markdown table. */
export function writeReport(report: ReportOptions): string {
  const { dir, scenario, result, targets, plot } = report;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${scenario}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const rows = targets.map(
    (t) => `| ${t.metric} | ${fmt(t.value)} | ${t.target} | ${t.met ? 'yes' : '**no**'} |`,
  );
  const table = [
    `### ${scenario}`,
    '',
    '| metric | measured | target | met |',
    '|---|---:|---|---|',
    ...rows,
    '',
  ].join('\n');
  writeFileSync(join(dir, `${scenario}.md`), `${table}\n`);
  writeFileSync(join(dir, `${scenario}.svg`), svg(scenario, plot));
  return table;
}

/** Short axis labels: 2.8M, 15k, 0.42. */
function axis(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  return n >= 100 ? n.toFixed(0) : n.toPrecision(2);
}

function fmt(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en') : n.toFixed(n < 10 ? 3 : 1);
}

/** Stacked line charts over one x axis. */
function svg(title: string, plot: Plot): string {
  const W = 720;
  const H = 200;
  const pad = 50;
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  const xMax = Math.max(1, ...plot.x);
  const chart = (y0: number, { label, values }: Plot['charts'][number], color: string) => {
    const vMax = Math.max(1e-9, ...values) * 1.1;
    const points = plot.x
      .map((x, i) => `${pad + (x / xMax) * (W - 2 * pad)},${y0 + H - (values[i]! / vMax) * H}`)
      .join(' ');
    return [
      `<text x="${pad}" y="${y0 - 8}" font-size="13">${label} (max ${fmt(Math.max(0, ...values))})</text>`,
      `<rect x="${pad}" y="${y0}" width="${W - 2 * pad}" height="${H}" fill="none" stroke="#bbb"/>`,
      `<text x="${pad - 6}" y="${y0 + 10}" font-size="10" text-anchor="end">${axis(vMax)}</text>`,
      `<text x="${pad - 6}" y="${y0 + H}" font-size="10" text-anchor="end">0</text>`,
      `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points}"/>`,
    ].join('\n');
  };
  const total = plot.charts.length * (H + 30) + 90;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${total}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${pad}" y="20" font-size="15" font-weight="bold">DeviceHub bench: ${title}</text>`,
    ...plot.charts.map((c, i) => chart(50 + i * (H + 30), c, colors[i % colors.length]!)),
    `<text x="${W / 2}" y="${total - 8}" font-size="11" text-anchor="middle">${plot.xLabel} (0..${fmt(xMax)})</text>`,
    '</svg>',
    '',
  ].join('\n');
}
