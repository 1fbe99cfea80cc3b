/**
 * An open-loop HTTP load in its own process (so the bench's own work never delays the offer):
 * GETs of a list of paths, each with the ETag it last got (`If-None-Match`), offered at a fixed
 * rate: the n-th due at n / rate seconds, sent by as many senders as keep-alive connections, each
 * sending the next due request once its last is answered (wrk2's model), the latency counted from
 * when each was due (no coordinated omission). Behind schedule, the backlog is a counter: no
 * request waits in this process as an object, and each goes out with its path's latest ETag, as a
 * screen's next poll would. (Requests made when due and queued in the HTTP agent grew this
 * process's heap and its loop stalls with every second behind, and carried ETags gone stale while
 * they waited, so each got a whole snapshot: a backlog fed itself and never drained, with the
 * gateway at 0.6 of a core.) The offer starts with a warm-up (3 s by default) at the same rate, by the
 * same code, that is not counted: wrk2 leaves out its calibration seconds too. Against a bare
 * server on this machine (bench/poll-floor.ts) the first second after a 1 s warm-up still took
 * 34–57 ms at the p99, where the seconds after took 1.5–3 ms, and it alone set the whole run's
 * p99 (22–50 ms); after 3 s the whole run's p99 was 2.0–2.4 ms, after 6 s 1.9. Used for the
 * snapshot polls and the gateway's config re-polls.
 *
 *   node --import tsx bench/scenarios/screens-load.ts < plan.json    (a PacedPlan)
 *
 * Prints one JSON line when done: PacedResult.
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { TS_NODE_ARGS } from '../../infra/ts-node-args.ts';

export interface PacedPlan {
  readonly url: string;
  readonly paths: readonly string[];
  /** Sent with every request (one authorization for all), unless `authorizations` names one per path. */
  readonly headers: Record<string, string>;
  /** One Authorization header per path (config re-polls: each edge its own credentials). */
  readonly authorizations?: readonly string[];
  readonly rate: number;
  readonly seconds: number;
  /** Keep-alive connections (default 64). */
  readonly connections?: number;
  /** Offered first at the same rate and not measured (default 3). */
  readonly warmupSeconds?: number;
}

export interface PacedResult {
  readonly sent: number;
  readonly statuses: Record<string, number>;
  readonly errors: number;
  /** Latency (ms, from when each was due): p50, p99, max over the run. */
  readonly latencyMs: { p50: number; p99: number; max: number };
  /** p99 (ms) of each second. */
  readonly p99BySecond: number[];
  /** Answers a second. */
  readonly perSecond: number;
  /** The load process's own longest event-loop stall of each second (ms): its share of a slow second. */
  readonly clientLoopMaxMsBySecond: number[];
}

const quantile = (sorted: Float64Array, q: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
const round = (n: number) => Math.round(n * 100) / 100;

async function run(plan: PacedPlan): Promise<PacedResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: plan.connections ?? 64 });
  const target = new URL(plan.url);
  const etags = new Map<string, string>();
  const get = (i: number) =>
    new Promise<number>((resolve, reject) => {
      const path = plan.paths[i]!;
      const headers: Record<string, string> = { ...plan.headers };
      const auth = plan.authorizations?.[i];
      if (auth !== undefined) headers.authorization = auth;
      // Made when it is sent (offer): the ETag is the path's latest.
      const etag = etags.get(path);
      if (etag !== undefined) headers['if-none-match'] = etag;
      const req = request(
        { host: target.hostname, port: target.port, path, method: 'GET', headers, agent },
        (res) => {
          const tag = res.headers.etag;
          if (typeof tag === 'string') etags.set(path, tag);
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end();
    });
  // Each path once, to hold its ETag (and warm the gateway's credential cache).
  for (let i = 0; i < plan.paths.length; i += 64)
    await Promise.all(plan.paths.slice(i, i + 64).map((_, k) => get(i + k)));
  // The warm-up and the measured offer are one offer, the same code throughout: what falls due in
  // the warm-up is sent and answered like the rest and not counted.
  const senders = plan.connections ?? 64;
  const warmupMs = (plan.warmupSeconds ?? 3) * 1000;
  const latencies: number[] = [];
  const seconds: number[][] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  const begun = performance.now();
  const started = begun + warmupMs;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  const clientLoopMaxMsBySecond: number[] = [];
  let sampler: ReturnType<typeof setInterval> | undefined;
  const measuring = setTimeout(() => {
    loop.enable();
    sampler = setInterval(() => {
      clientLoopMaxMsBySecond.push(round(loop.max / 1e6));
      loop.reset();
    }, 1000);
  }, warmupMs);
  const warm = Math.round((plan.rate * warmupMs) / 1000);
  const offered = await offer(
    plan.rate,
    plan.seconds + warmupMs / 1000,
    senders,
    (n, due) =>
      get(n % plan.paths.length).then(
        (status) => {
          if (n < warm) return;
          const ms = performance.now() - due;
          latencies[n - warm] = ms;
          const s = Math.floor((due - started) / 1000);
          const bucket = seconds[s] ?? [];
          bucket.push(ms);
          seconds[s] = bucket;
          statuses[status] = (statuses[status] ?? 0) + 1;
        },
        () => {
          if (n < warm) return;
          latencies[n - warm] = performance.now() - due;
          errors++;
        },
      ),
    begun,
  );
  const total = offered - warm;
  clearTimeout(measuring);
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(sampler);
  loop.disable();
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  return {
    sent: total,
    statuses,
    errors,
    latencyMs: {
      p50: round(quantile(sorted, 0.5)),
      p99: round(quantile(sorted, 0.99)),
      max: round(quantile(sorted, 1)),
    },
    p99BySecond: seconds.map((v) => round(quantile(Float64Array.from(v).sort(), 0.99))),
    perSecond: Math.round(total / elapsed),
    clientLoopMaxMsBySecond,
  };
}

/**
 * Offers `rate` requests a second for `seconds`, the n-th due `n / rate` s after `started`, through
 * `senders` that each call `send(n, due)` for the next due request once their last one settled:
 * on schedule when the server keeps up, back to back while it is behind. Resolves with how many
 * were sent, once every one has settled.
 */
async function offer(
  rate: number,
  seconds: number,
  senders: number,
  send: (n: number, due: number) => Promise<void>,
  started = performance.now(),
): Promise<number> {
  const total = Math.round(rate * seconds);
  let next = 0;
  const sender = async () => {
    for (let n = next++; n < total; n = next++) {
      const due = started + (n * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await send(n, due);
    }
  };
  await Promise.all(Array.from({ length: senders }, sender));
  return total;
}

const SELF = fileURLToPath(import.meta.url);

/** Runs the plan in a process of its own; resolves with what it measured. */
export function runPacedLoad(plan: PacedPlan): Promise<PacedResult> {
  const child = spawn(process.execPath, [...TS_NODE_ARGS, SELF], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.end(JSON.stringify(plan));
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  // 'close', not 'exit': stdout is read to its end first, the result line included (a pipe may
  // still hold part of it when the process exits).
  return new Promise((resolve, reject) => {
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`paced load exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as PacedResult);
    });
  });
}

if (process.argv[1] === SELF) {
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const result = await run(JSON.parse(input) as PacedPlan);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
