/**
 * Where the CPU goes while a benchmark runs, counted by the kernel (decision 074): records every
 * core with `perf record -a -g` for `--seconds`, then splits each DeviceHub process (links, hub
 * nodes, the simulator) and the servers beside them (Redis, mosquitto) by stage of the hub's path
 * (bench/on-cpu-split.ts). Run it in a second shell during the measured window of a run whose hub
 * processes carry `--perf-basic-prof`, so that perf can name their JavaScript:
 *
 *   DH_LINK_ARGS=--perf-basic-prof DH_NODE_ARGS=--perf-basic-prof \
 *     npm run bench -- ingest --edges 5000 --transport mqtt --workload legacy --seconds 30 &
 *   sleep 25; node --import tsx bench/on-cpu.ts --seconds 12 --rate 6500
 *
 * Node then writes its symbol maps to /tmp/perf-PID.map and small `isolate-*-v8.log` files to its
 * working directory: delete them after. With `--rate` (the run's messages a second) each figure
 * is given in µs of CPU a message; `--explain` lists the frames each process's `other` row is made of.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { type ProcessSplit, parsePerfScript, splitByProcess } from './on-cpu-split.ts';

const run = promisify(execFile);

/** The roles of the devicehub commands and of the servers this report covers. */
const COMMAND_ROLES: ReadonlyMap<string, string> = new Map([
  ['link', 'link'],
  ['node', 'node'],
  ['simulate', 'simulator'],
]);
const SERVER_ROLES: ReadonlyMap<string, string> = new Map([
  ['redis-server', 'redis'],
  ['mosquitto', 'mosquitto'],
]);

const devicehubAt = (argv: readonly string[]) => argv.findIndex((a) => a.endsWith('cli/devicehub.ts'));

/** The role of a process from its command line, or undefined for one this report leaves out. */
export function roleOf(argv: readonly string[]): string | undefined {
  const cli = devicehubAt(argv);
  if (cli !== -1) return COMMAND_ROLES.get(argv[cli + 1] ?? '');
  // Redis rewrites its title: argv[0] is then `redis-server 127.0.0.1:PORT`.
  return SERVER_ROLES.get(argv[0]?.split(' ')[0]?.split('/').pop() ?? '');
}

/** The processes of this machine this report covers, by pid, and whether perf can name their JavaScript. */
function findProcesses(): { roles: Map<number, string>; unnamed: number[] } {
  const roles = new Map<number, string>();
  const unnamed: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .filter((a) => a !== '');
    } catch {
      continue; // gone meanwhile
    }
    const role = roleOf(argv);
    if (role === undefined) continue;
    roles.set(pid, role);
    if (devicehubAt(argv) !== -1 && !argv.includes('--perf-basic-prof')) unnamed.push(pid);
  }
  return { roles, unnamed };
}

/** The report as a markdown table: one column per process, one row per stage (µs a message with a rate). */
export function formatSplits(splits: readonly ProcessSplit[], rate?: number): string {
  const figure = (s: ProcessSplit, pct: number) =>
    rate === undefined ? `${pct.toFixed(1)} %` : `${((s.cpuMsPerSec * 1000 * pct) / 100 / rate).toFixed(2)}`;
  const head = `| ${rate === undefined ? 'share of the process' : 'CPU µs a message'} | ${splits.map((s) => `${s.role} ${s.pid}`).join(' | ')} |`;
  const rule = `| --- | ${splits.map(() => '---:').join(' | ')} |`;
  const total = `| **all** (${rate === undefined ? 'CPU ms a second' : `at ${rate} msg/s`}) | ${splits
    .map((s) =>
      rate === undefined ? `${s.cpuMsPerSec}` : `**${((s.cpuMsPerSec * 1000) / rate).toFixed(2)}**`,
    )
    .join(' | ')} |`;
  const kernel = `| of it in the kernel | ${splits.map((s) => `${s.kernelPct.toFixed(1)} %`).join(' | ')} |`;
  const names = [...new Set(splits.flatMap((s) => s.stages.map((st) => st.name)))];
  const rows = names.map(
    (name) =>
      `| ${name} | ${splits
        .map((s) => {
          const st = s.stages.find((x) => x.name === name);
          return st === undefined ? '' : figure(s, st.pct);
        })
        .join(' | ')} |`,
  );
  return [head, rule, total, kernel, ...rows].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      hz: { type: 'string', default: '999' },
      rate: { type: 'string' },
      explain: { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  const hz = Number(values.hz);
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (!(seconds > 0) || !(hz > 0) || (rate !== undefined && !(rate > 0)))
    throw new RangeError('on-cpu: --seconds, --hz and --rate must be positive numbers');
  const { roles, unnamed } = findProcesses();
  if (![...roles.values()].some((r) => r === 'link' || r === 'node'))
    throw new Error('on-cpu: no devicehub link or node is running; start a benchmark first');
  if (unnamed.length > 0)
    process.stderr.write(
      `on-cpu: ${unnamed.join(', ')} run without --perf-basic-prof: their JavaScript shows as "other"\n`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'on-cpu-'));
  try {
    const data = join(dir, 'perf.data');
    process.stderr.write(`on-cpu: recording every core for ${seconds} s at ${hz} Hz…\n`);
    await run('perf', ['record', '-a', '-g', '-F', String(hz), '-o', data, '--', 'sleep', String(seconds)], {
      maxBuffer: 1 << 24,
    }).catch((error: unknown) => {
      throw new Error(
        `on-cpu: perf record failed (is linux-perf installed, kernel.perf_event_paranoid ≤ 2?): ${String(error)}`,
      );
    });
    process.stderr.write('on-cpu: reading the samples…\n');
    const { stdout } = await run('perf', ['script', '-i', data, '-F', 'pid,ip,sym'], { maxBuffer: 1 << 30 });
    const splits = splitByProcess(parsePerfScript(stdout), { roles, hz, seconds });
    const shown = splits.filter((s) => s.samples > 0);
    process.stdout.write(`${formatSplits(shown, rate)}\n`);
    // --explain: what each process's `other` holds, to place it in a stage.
    if (values.explain)
      for (const s of shown) {
        process.stdout.write(`\n${s.role} ${s.pid}, other:\n`);
        for (const t of s.otherTop) process.stdout.write(`  ${t.pct.toFixed(1).padStart(5)} %  ${t.frame}\n`);
      }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
