/**
 * VictoriaLogs (github.com/VictoriaMetrics/VictoriaLogs, Apache-2.0), the log store: `victoria-logs`
 * built from its Go module by `infra/provision.sh` into the cache at the version
 * `infra/victorialogs/go.mod` requires, and a server on loopback for the tests, the demo and the
 * benchmarks (a data folder of its own, a retention period; stop, kill and restart on the same port
 * and data). It starts in well under a second. docs/decisions/036-log-store.md says why VictoriaLogs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { type ServerProcess, startServerProcess, withControls } from './server-process.ts';

/** The VictoriaLogs version the project builds (from infra/victorialogs/go.mod). */
export function victoriaLogsVersion(): string {
  const goMod = readFileSync(new URL('./victorialogs/go.mod', import.meta.url), 'utf8');
  const version = /^require github\.com\/VictoriaMetrics\/VictoriaLogs (v[\d.]+)$/m.exec(goMod)?.[1];
  if (version === undefined)
    throw new Error('infra/victorialogs/go.mod does not require github.com/VictoriaMetrics/VictoriaLogs');
  return version;
}

/** The path of `victoria-logs`; throws with what to run when it is not built yet (in CI too). */
export function victoriaLogsBinary(): string {
  const cache = process.env.DEVICEHUB_CACHE ?? join(homedir(), '.cache', 'devicehub');
  const path = join(cache, `victorialogs-${victoriaLogsVersion()}`, 'victoria-logs');
  if (!existsSync(path))
    throw new Error(
      `Cannot find victoria-logs ${victoriaLogsVersion()} at ${path}. Run \`sh infra/provision.sh\` (it builds VictoriaLogs with Go).`,
    );
  return path;
}

export interface VictoriaLogsOptions {
  /** Where it keeps its data (created when missing; default: a new temporary folder). */
  readonly dataDir?: string;
  /** `-retentionPeriod`: lines older than this are deleted, and refused when written (default 30d; at least 1d). */
  readonly retention?: string;
  /** Default: a free port. */
  readonly port?: number;
}

export interface VictoriaLogsServer extends ServerProcess, AsyncDisposable {
  /** `http://127.0.0.1:<port>`: the store's URL (DEVICEHUB_LOG_STORE, `openLogStore`). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly retention: string;
  /** The command line it runs (the flags a test checks). */
  readonly args: readonly string[];
}

export async function startVictoriaLogs(options: VictoriaLogsOptions = {}): Promise<VictoriaLogsServer> {
  const binary = victoriaLogsBinary();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'dh-victorialogs-'));
  mkdirSync(dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const retention = options.retention ?? '30d';
  const args = [
    `-httpListenAddr=127.0.0.1:${port}`,
    `-storageDataPath=${dataDir}`,
    `-retentionPeriod=${retention}`,
    '-loggerLevel=WARN',
    // A stop ends open live tails after a second, not VictoriaLogs' default 7 s.
    '-http.maxGracefulShutdownDuration=1s',
    // Acknowledged lines reach disk within a second, not 5 s: a kill -9 loses at most that much,
    // which the shippers' 10 s re-send of acknowledged batches covers (decision 037).
    '-inmemoryDataFlushInterval=1s',
  ];
  const proc = await startServerProcess({
    name: 'victoria-logs',
    port,
    timeoutMs: 30_000,
    spawnServer: () => spawn(binary, args, { stdio: 'ignore' }),
    describeExit: (code) => `victoria-logs exited with ${code} (${binary} ${args.join(' ')})`,
  });
  return withControls(proc, { url: `http://127.0.0.1:${port}`, port, dataDir, retention, args });
}
