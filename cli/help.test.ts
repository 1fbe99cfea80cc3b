/**
 * The command line's answers: every command prints its own `--help` (exit 0); an unknown option
 * or an unknown command exits 2 with a line naming it, not a stack trace.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TS_NODE_ARGS } from '../infra/ts-node-args.ts';

const CLI = fileURLToPath(new URL('./devicehub.ts', import.meta.url));
const COMMANDS = [
  'demo',
  'node',
  'link',
  'gateway',
  'simulate',
  'agent',
  'connect',
  'cluster',
  'bench',
  'clips',
  'recognize',
  'ezviz-standin',
];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `devicehub …args` with no DH_ settings in its environment (they are checked first). */
function devicehub(...args: string[]): Promise<Run> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('DH_') && name !== 'NODE_TEST_CONTEXT'),
  );
  const child = spawn(process.execPath, [...TS_NODE_ARGS, CLI, ...args], { env, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** Runs `fn` on each item, `width` at a time (each is a Node process; the machine is small). */
async function each<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

describe('devicehub command line', { timeout: 180_000 }, () => {
  it('every command answers its own --help with exit 0', async () => {
    await each(COMMANDS, 3, async (command) => {
      const run = await devicehub(command, '--help');
      assert.equal(run.code, 0, `devicehub ${command} --help: ${run.stderr}`);
      assert.ok(
        run.stdout.startsWith(`devicehub ${command}`),
        `devicehub ${command} --help prints its own text, got: ${run.stdout.slice(0, 200)}`,
      );
      assert.doesNotMatch(run.stdout, /usage: devicehub <command>/, `${command}: not the general help`);
    });
    const agent = await devicehub('help', 'agent');
    assert.equal(agent.code, 0);
    assert.match(agent.stdout, /^devicehub agent --config FILE/);
    const general = await devicehub('--help');
    assert.equal(general.code, 0);
    for (const command of COMMANDS) assert.match(general.stdout, new RegExp(`^  ${command} `, 'm'));
  });

  it('an unknown option exits 2 naming the command and the option', async () => {
    await each(COMMANDS, 3, async (command) => {
      const run = await devicehub(command, '--no-such-flag');
      assert.equal(run.code, 2, `devicehub ${command} --no-such-flag: ${run.stderr}`);
      assert.match(run.stderr, new RegExp(`^devicehub ${command}: Unknown option '--no-such-flag'`));
      assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
      assert.equal(run.stdout, '');
    });
  });

  it('an unknown command exits 2 naming it', async () => {
    for (const args of [['frobnicate'], ['help', 'frobnicate']]) {
      const run = await devicehub(...args, '--verbose');
      assert.equal(run.code, 2, `devicehub ${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /^devicehub: unknown command "frobnicate"/);
      assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
    }
  });
});
