/**
 * The configuration phases of the `gateway` scenario (bench/scenarios/gateway.ts): the edges'
 * first fetch, propagation of a global change to long-polling edges, re-polls answered 304 flat
 * out and at a fixed offered rate, and the gateway's own event-loop lag over them.
 */
import { simulatedPassword } from '../../edge/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { type httpClient, percentiles, type Reply } from '../http-client.ts';
import { promValue } from '../prom-samples.ts';
import { runPacedLoad } from './screens-load.ts';

export type HttpClient = ReturnType<typeof httpClient>;

export const CONNECTIONS = 64;
export const TARGET_RATE = 10_000;

/** The edges polling their configuration, each with the ETag it holds. */
export interface ConfigPolls {
  readonly ids: readonly string[];
  readonly etags: Map<string, string>;
  /** GET /v1/config/edge/{id} as the edge (Basic auth), with If-None-Match and ?wait= when given. */
  get(id: string, etag?: string, wait?: number): Promise<Reply>;
}

export function configPolls(http: HttpClient, ids: readonly string[]): ConfigPolls {
  const basic = new Map(
    ids.map((id) => [id, `Basic ${Buffer.from(`${id}:${simulatedPassword(id)}`).toString('base64')}`]),
  );
  const get = (id: string, etag?: string, wait?: number) =>
    http.send('GET', `/v1/config/edge/${id}${wait ? `?wait=${wait}` : ''}`, {
      headers: { authorization: basic.get(id)!, ...(etag ? { 'if-none-match': etag } : {}) },
    });
  return { ids, etags: new Map(), get };
}

/** Every edge fetches its configuration once (its ETag; the gateway's auth cache warms). */
export async function fetchEtags(polls: ConfigPolls): Promise<void> {
  const { ids, etags } = polls;
  for (let i = 0; i < ids.length; i += CONNECTIONS) {
    await Promise.all(
      ids.slice(i, i + CONNECTIONS).map(async (id) => {
        const r = await polls.get(id);
        if (r.status !== 200) throw new Error(`GET config of ${id}: ${r.status} ${r.body}`);
        etags.set(id, String(r.headers.etag));
      }),
    );
  }
}

/**
 * Propagation: every edge long-polls; one PUT; until each holds the new version. (First: it also
 * opens a keep-alive connection per edge, which the re-polls reuse.)
 */
export async function measurePropagation(polls: ConfigPolls, http: HttpClient, operatorKey: string) {
  const { ids, etags } = polls;
  console.error(`bench gateway: ${ids.length} long-polls, then a global configuration change…`);
  let putAt = 0;
  const arrived: number[] = [];
  const waiting = ids.map(async (id) => {
    for (;;) {
      const r = await polls.get(id, etags.get(id), 60);
      if (r.status === 200) {
        arrived.push(performance.now() - putAt);
        etags.set(id, String(r.headers.etag));
        return;
      }
      if (r.status !== 304) throw new Error(`long-poll of ${id}: ${r.status} ${r.body}`);
    }
  });
  // Every poll arrived and waiting: the gateway's own count of the long-polls it holds.
  await waitFor(
    async () =>
      Number(/^devicehub_config_long_polls (\d+)$/m.exec((await http.send('GET', '/metrics')).body)?.[1]) >=
      ids.length,
    { timeoutMs: 60_000, intervalMs: 100, message: `${ids.length} long-polls held by the gateway` },
  );
  putAt = performance.now();
  const put = await http.send('PUT', '/v1/config/edge/global', {
    headers: { authorization: `Bearer ${operatorKey}` },
    body: JSON.stringify({ pollSeconds: 45 }),
  });
  if (put.status !== 200) throw new Error(`PUT global config: ${put.status} ${put.body}`);
  await Promise.all(waiting);
  return percentiles(arrived);
}

/** Re-polls answered 304, as fast as CONNECTIONS connections go, for `seconds`. */
export async function measureFlatOut(polls: ConfigPolls, seconds: number) {
  const { ids, etags } = polls;
  console.error(`bench gateway: ${ids.length} edges re-polling for ${seconds} s…`);
  const latencies: number[] = [];
  const perSecond: number[] = [];
  let answered = 0;
  let not304 = 0;
  const end = Date.now() + seconds * 1000;
  const ticker = setInterval(() => {
    perSecond.push(answered);
    process.stderr.write(
      `\r  ${perSecond.length}/${seconds} s  ${answered - (perSecond.at(-2) ?? 0)} req/s   `,
    );
  }, 1000);
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, w) => {
      for (let i = w; Date.now() < end; i = (i + CONNECTIONS) % ids.length) {
        const id = ids[i]!;
        const started = performance.now();
        const r = await polls.get(id, etags.get(id));
        latencies.push(performance.now() - started);
        answered++;
        if (r.status !== 304) not304++;
      }
    }),
  );
  clearInterval(ticker);
  process.stderr.write('\n');
  return {
    config304PerSec: Math.round(answered / seconds),
    saturatedLatencyMs: percentiles(latencies),
    not304,
    /** Answers so far at the end of each second. */
    perSecond,
  };
}

/**
 * Latency at the target rate: TARGET_RATE re-polls a second offered on a fixed schedule (an open
 * loop: a slow answer does not slow the offer down, so queueing shows in the latency), from a load
 * process of its own (screens-load.ts) so the bench's own work never delays the offer; each edge
 * with its own credentials and the ETag it holds.
 */
export async function measurePaced(polls: ConfigPolls, url: string, seconds: number) {
  console.error(`bench gateway: ${TARGET_RATE} re-polls/s offered for ${seconds} s (a load process)…`);
  const paced = await runPacedLoad({
    url,
    paths: polls.ids.map((id) => `/v1/config/edge/${id}`),
    headers: {},
    authorizations: polls.ids.map(
      (id) => `Basic ${Buffer.from(`${id}:${simulatedPassword(id)}`).toString('base64')}`,
    ),
    rate: TARGET_RATE,
    seconds,
  });
  const not304 = Object.entries(paced.statuses)
    .filter(([status]) => status !== '304')
    .reduce((n, [, count]) => n + count, 0);
  return {
    configLatencyMs: paced.latencyMs,
    p99BySecond: paced.p99BySecond,
    pacedPerSec: paced.perSecond,
    pacedErrors: not304 + paced.errors,
  };
}

/**
 * The gateway's own event-loop lag over the run (prom-client's default metrics): how much of the
 * tail is the gateway's and how much the load generator's, which shares the cores.
 */
export async function gatewayLoopLag(http: HttpClient): Promise<{ p99: number; max: number }> {
  const metrics = (await http.send('GET', '/metrics')).body;
  const metric = (name: string) =>
    promValue(metrics, `devicehub_gateway_nodejs_eventloop_lag_${name}_seconds`) * 1000;
  return {
    p99: Math.round(metric('p99') * 10) / 10,
    max: Math.round(metric('max') * 10) / 10,
  };
}
