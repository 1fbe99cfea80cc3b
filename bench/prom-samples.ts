/**
 * The samples of one metric in a Prometheus text scrape (`name value` or `name{labels} value`),
 * each with its labels: the one reader of /metrics for every benchmark that scrapes a process.
 */

export interface PromSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of metric `name` in `text`, in order. */
export function promSamples(text: string, name: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const labels: Record<string, string> = {};
    if (rest[0] === '{')
      for (const [, key, value] of rest.slice(1, rest.lastIndexOf('}')).matchAll(LABEL))
        labels[key as string] = value as string;
    out.push({ labels, value: Number(line.slice(line.lastIndexOf(' ') + 1)) });
  }
  return out;
}

/** The value of an unlabelled metric (NaN when the scrape has none). */
export function promValue(text: string, name: string): number {
  return promSamples(text, name)[0]?.value ?? Number.NaN;
}
