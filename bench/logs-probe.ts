/**
 * What the `logs` benchmark asks VictoriaLogs, over its HTTP API (LogsQL at /select/logsql/query):
 * how many lines carry a run's word (`| stats count()`), and when each marker line became
 * queryable — a poller that asks for the run's markers a few times a second and notes when it
 * first sees each; the marker's own time is when its edge sent it.
 */

export interface MarkerSighting {
  /** When the edge sent it (the line's time, ms). */
  readonly sentAt: number;
  /** When a query first returned it (ms). */
  readonly seenAt: number;
}

/** Runs a LogsQL query; its JSON lines. Throws when the store does not answer 200. */
async function logsql(url: string, query: string, signal?: AbortSignal): Promise<Record<string, string>[]> {
  const response = await fetch(`${url}/select/logsql/query`, {
    method: 'POST',
    body: new URLSearchParams({ query }),
    signal: signal ?? AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`VictoriaLogs answered ${response.status} to ${query}: ${text.slice(0, 300)}`);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, string>);
}

/** Lines matching `filter` (a LogsQL filter: `"word"`, `*`), and how many distinct messages they hold (a line stored twice counts once). */
export async function countDistinct(
  url: string,
  filter: string,
): Promise<{ rows: number; distinct: number }> {
  const rows = await logsql(url, `${filter} | stats count() as n, count_uniq(_msg) as u`);
  return { rows: Number(rows[0]?.n ?? 0), distinct: Number(rows[0]?.u ?? 0) };
}

/** Lines per service (the hub processes' own and the edges' sources). */
export async function countByService(url: string): Promise<Record<string, number>> {
  const rows = await logsql(url, '* | stats by (service) count() as n');
  return Object.fromEntries(rows.map((r) => [r.service ?? '', Number(r.n ?? 0)]));
}

/**
 * Polls for the lines with word `word` (the run's markers, `mk<run> …`) every `everyMs` until
 * stopped; `sightings` has one per marker seen. A store that does not answer (it is down) is
 * asked again next time.
 */
export class MarkerPoller {
  readonly sightings = new Map<string, MarkerSighting>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  readonly #url: string;
  readonly #word: string;
  readonly #everyMs: number;

  constructor(url: string, word: string, everyMs = 250) {
    this.#url = url;
    this.#word = word;
    this.#everyMs = everyMs;
  }

  start(): this {
    const poll = async () => {
      if (this.#stopped) return;
      try {
        const rows = await logsql(
          this.#url,
          `_time:15m "${this.#word}" | fields _time, _msg`,
          AbortSignal.timeout(5000),
        );
        const now = Date.now();
        for (const row of rows) {
          const key = row._msg ?? '';
          if (!this.sightings.has(key))
            this.sightings.set(key, { sentAt: Date.parse(row._time ?? ''), seenAt: now });
        }
      } catch {
        // down or slow: next time
      }
      if (!this.#stopped) this.#timer = setTimeout(() => void poll(), this.#everyMs);
    };
    void poll();
    return this;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
