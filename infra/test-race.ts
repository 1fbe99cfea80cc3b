/**
 * For tests of files that several processes may create at once (key files, the fleet CA): N
 * copies of a fixture, each spinning until one common instant, then each running the same step
 * over the same folders `<base>/0` … `<base>/<count-1>`, so they race for every folder.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TS_NODE_ARGS } from './ts-node-args.ts';

const execFileAsync = promisify(execFile);

/** What each fixture process prints: a failure's text per failed folder, each folder's result (null: failed). */
export interface RaceOutput<R> {
  readonly failures: string[];
  readonly results: (R | null)[];
}

/** Runs `processes` copies of `fixture` (a file that calls `raceOverFolders`) over `count` folders of `base`. */
export async function raceProcesses<R>(
  fixture: string,
  o: { base: string; count: number; processes: number },
): Promise<RaceOutput<R>[]> {
  const startAt = Date.now() + 2_000;
  return await Promise.all(
    Array.from({ length: o.processes }, async () => {
      const { stdout } = await execFileAsync(
        process.execPath,
        [...TS_NODE_ARGS, fixture, o.base, String(o.count), String(startAt)],
        { encoding: 'utf8' },
      );
      return JSON.parse(stdout) as RaceOutput<R>;
    }),
  );
}

/** In the fixture: waits for the common instant, runs `step` on every folder, prints a `RaceOutput`. */
export async function raceOverFolders<R>(step: (dir: string, index: number) => Promise<R>): Promise<void> {
  const [base, count, startAt] = process.argv.slice(2);
  if (base === undefined || count === undefined || startAt === undefined) {
    throw new Error('usage: <fixture> <base folder> <count> <start at, ms since epoch>');
  }
  while (Date.now() < Number(startAt)) {
    // Spin: the processes must race for the same folders, not arrive one after another.
  }
  const output: RaceOutput<R> = { failures: [], results: [] };
  for (let i = 0; i < Number(count); i++) {
    try {
      output.results.push(await step(join(base, String(i)), i));
    } catch (error) {
      output.failures.push(String(error));
      output.results.push(null);
    }
  }
  process.stdout.write(JSON.stringify(output));
}
