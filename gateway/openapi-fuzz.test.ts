/**
 * The API fuzzed from its own OpenAPI document with Schemathesis (installed by
 * infra/provision.sh at the version infra/schemathesis.txt pins): a served gateway over a real
 * Redis and a real PostgreSQL, an admin key, every operation of `/v1/openapi.json`, valid and
 * invalid requests (the examples, coverage, fuzzing and stateful phases). It fails on any 5xx and
 * on any response the document does not describe (status, content type, headers, body schema),
 * printing Schemathesis's report.
 *
 * Checks left out, by design:
 * - positive_data_acceptance: the document cannot state every rule the gateway checks (no NUL or
 *   unpaired surrogate in any string, at any depth of a free-form JSON value; a configuration
 *   document's shape depends on the path's `kind`), so some schema-valid requests are rightly 400s.
 * - unsupported_method, allow_header_conformance: a method a path does not have is a 404 (Hono's
 *   router), not a 405; and `/v1/config/{kind}/{id}` (GET) and `/v1/config/{kind}/{scope}` (PUT)
 *   are one URL template under two names, so a "wrong" method there is a real route.
 * - object_level_authorization: needs two principals owning different objects; API keys own none.
 * - use_after_free: DELETE does not always make a resource vanish — closing a tunnel answers 202
 *   and the tunnel stays readable with its end state (the history operators look at), revoking an
 *   API key keeps its row for the audit.
 * Bounded: at most MAX_EXAMPLES cases per operation, a fixed seed, one worker. The config long-poll
 * (`?wait=`) is capped at 1 s by the gateway's maxWaitSeconds; the WebSockets (`/v1/events`, the
 * browser terminals) are upgrades outside the document, so nothing here reaches them.
 */
// Redis Cluster pass: once (what this tests is the OpenAPI fuzzer against the HTTP layer; its Redis use is incidental).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import {
  type AlertmanagerServer,
  type PostgresServer,
  type PrometheusServer,
  startAlertmanager,
  startPostgres,
  startPrometheus,
  startVictoriaLogs,
  type VictoriaLogsServer,
} from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { openLogStore } from '../logs/mod.ts';
import { FsObjectStore } from '../objects/mod.ts';
import { createApiKey } from './auth.ts';
import { openDatabase } from './db/database.ts';
import { createGateway, serveGateway } from './gateway.ts';

const MAX_EXAMPLES = 50;
const SEED = 20_261_129;
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  'negative_data_rejection',
  'missing_required_header',
  'ignored_auth',
  'ensure_resource_availability',
];

const pin = readFileSync(fileURLToPath(new URL('../infra/schemathesis.txt', import.meta.url)), 'utf8');
const version = /^schemathesis==([0-9.]+)$/m.exec(pin)?.[1];
const cache = process.env.DEVICEHUB_CACHE ?? join(homedir(), '.cache', 'devicehub');
const binary = join(cache, `schemathesis-${version}`, 'bin', 'schemathesis');
const missing = existsSync(binary)
  ? undefined
  : `Schemathesis ${version} is not installed at ${binary}: run sh infra/provision.sh`;
if (missing !== undefined && process.env.CI === 'true') throw new Error(missing);

const t = useRedis();
let postgres: PostgresServer | undefined;
let prometheus: PrometheusServer | undefined;
let alertmanager: AlertmanagerServer | undefined;
let victoriaLogs: VictoriaLogsServer | undefined;
after(async () => {
  await victoriaLogs?.stop();
  await postgres?.stop();
  await prometheus?.stop();
  await alertmanager?.stop();
});

/** Runs `command` to its end (killed after `timeoutMs`), with what it wrote to stdout and stderr. */
function run(command: string, args: string[], o: { cwd: string; timeoutMs: number }) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Sums a Prometheus counter's samples whose labels match `labels`. */
function sum(metrics: string, name: string, labels: RegExp = /.*/): number {
  let total = 0;
  for (const line of metrics.split('\n')) {
    const match = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (match && labels.test(match[1]!)) total += Number(match[2]);
  }
  return total;
}

describe('the API under Schemathesis', { timeout: 360_000 }, () => {
  it('answers every generated request with a status and body its OpenAPI document describes, never a 5xx', async (test) => {
    if (missing !== undefined) return test.skip(missing);
    postgres ??= await startPostgres();
    // A Prometheus (scraping itself), so the servers routes are fuzzed past their 503.
    prometheus ??= await startPrometheus({ targets: [] });
    // An Alertmanager, so the silences and alerts routes are fuzzed past their 503 (its webhook
    // goes nowhere: nothing fires). Rule writes run promtool, at most 2 at once (gateway/monitoring).
    alertmanager ??= await startAlertmanager({
      webhookUrl: 'http://127.0.0.1:9/v1/monitoring/alertmanager',
      bearerToken: 'fuzz-webhook-token-0123456789',
    });
    // A log store, so /v1/logs is fuzzed past its 503 (its words and filters reach a real VictoriaLogs).
    victoriaLogs ??= await startVictoriaLogs();
    const logs = openLogStore(victoriaLogs.url);
    const database = await openDatabase({ url: await postgres.createDatabase(`fuzz_${process.pid}`) });
    const failures: string[] = [];
    const logger = pino(
      { level: 'warn' },
      {
        write: (line: string) => {
          failures.push(line);
        },
      },
    );
    const gateway = await createGateway({
      database,
      bus: t.bus(t.keyspace(), t.connect()),
      maxWaitSeconds: 1,
      // A wall screen's live stream ends after 300 ms (the screen would reconnect), so a fuzzed
      // stream of an existing scope is answered in full rather than timed out.
      screens: { streamMaxMs: 300 },
      logger,
      // A fleet CA, so the certificate and rotation routes are fuzzed past their 503.
      identity: { dir: mkdtempSync(join(tmpdir(), 'devicehub-fuzz-ca-')), create: true },
      // An object store (and a small bound), so the artifact routes are fuzzed past their 503.
      objects: await FsObjectStore.open(mkdtempSync(join(tmpdir(), 'devicehub-fuzz-objects-'))),
      maxArtifactBytes: 64 * 1024,
      // TUF keys, so the metadata route is fuzzed past its 503.
      tuf: { keysDir: mkdtempSync(join(tmpdir(), 'devicehub-fuzz-tuf-')), create: true, upkeepEveryMs: 0 },
      // Schemathesis presents wrong credentials thousands of times from one address: the limiter
      // would answer 429 to most (login-limit.test.ts tests it); here every one must reach its 401.
      authentication: { loginLimit: { burst: 1_000_000 } },
      monitoring: { prometheusUrl: prometheus.url, alertmanagerUrl: alertmanager.url },
      logs,
    });
    const served = await serveGateway(gateway);
    const work = mkdtempSync(join(tmpdir(), 'devicehub-fuzz-'));
    try {
      const { key } = await createApiKey(database.db, { name: 'fuzz-admin', scope: 'admin' });
      const auth = { authorization: `Bearer ${key}` };
      // The document's example edge exists, so valid requests reach past the 404s too.
      const registered = await gateway.app.request('/v1/edges', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'E-000123', groupId: 'building-7' }),
      });
      assert.equal(registered.status, 201);

      const { code, output } = await run(
        binary,
        [
          'run',
          `${served.url}/v1/openapi.json`,
          '--header',
          `Authorization: Bearer ${key}`,
          '--checks',
          CHECKS.join(','),
          '--max-examples',
          String(MAX_EXAMPLES),
          '--seed',
          String(SEED),
          '--workers',
          '1',
          '--request-timeout',
          '10',
          '--generation-database',
          'none',
          '--no-color',
        ],
        { cwd: work, timeoutMs: 300_000 },
      );
      const doc = (await (await gateway.app.request('/v1/openapi.json')).json()) as {
        paths: Record<string, Record<string, unknown>>;
      };
      const metrics = await (await gateway.app.request('/metrics')).text();
      const requests = sum(metrics, 'devicehub_http_request_duration_seconds_count');
      const serverErrors = sum(metrics, 'devicehub_http_request_duration_seconds_count', /status="5\d\d"/);
      const summary = output.slice(output.lastIndexOf('SUMMARY')).trim();
      test.diagnostic(`${requests} requests, ${serverErrors} answered 5xx; ${summary.replace(/\s+/g, ' ')}`);
      assert.equal(
        code,
        0,
        `Schemathesis found failures (exit ${code}):\n${output}\nThe gateway's log:\n${failures.join('')}`,
      );
      assert.equal(serverErrors, 0, `${serverErrors} requests answered 5xx:\n${failures.join('')}`);
      // Every operation of the document was reached (the metrics label requests by route pattern).
      for (const [path, operations] of Object.entries(doc.paths))
        for (const method of Object.keys(operations)) {
          const route = path.replace(/\{(\w+)\}/g, ':$1');
          const labels = new RegExp(`method="${method.toUpperCase()}",route="${route}",`);
          assert.ok(
            sum(metrics, 'devicehub_http_request_duration_seconds_count', labels) > 0,
            `${method} ${path}`,
          );
        }
    } finally {
      rmSync(work, { recursive: true, force: true });
      await served.close();
      await gateway.stop();
      await database.close();
      await logs[Symbol.asyncDispose]();
    }
  });
});
