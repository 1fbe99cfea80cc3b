/**
 * `promtool check rules` on a rendered rule group: the group is written to a temporary file,
 * checked, and the file removed. At most `concurrency` checks run at once on a gateway (the
 * others wait their turn, at most `maxWaiting` of them; past that a check is refused as busy),
 * each killed after `timeoutMs`, so a flood of writes cannot spawn promtool without bound.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type RuleCheck = { readonly ok: true } | { readonly ok: false; readonly message: string };

export class PromtoolError extends Error {
  readonly code: 'UNAVAILABLE' | 'BUSY';
  constructor(code: 'UNAVAILABLE' | 'BUSY', message: string) {
    super(message);
    this.name = 'PromtoolError';
    this.code = code;
  }
}

export interface PromtoolOptions {
  /** The promtool binary (default `promtool` on the PATH; DEVICEHUB_PROMTOOL). */
  readonly binary?: string;
  /** Checks at once (default 2). */
  readonly concurrency?: number;
  /** Checks waiting for a turn before a new one is refused (default 32). */
  readonly maxWaiting?: number;
  /** One check's time limit (default 10 s). */
  readonly timeoutMs?: number;
}

export class Promtool {
  readonly #binary: string;
  readonly #concurrency: number;
  readonly #maxWaiting: number;
  readonly #timeoutMs: number;
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(options: PromtoolOptions = {}) {
    this.#binary = options.binary ?? process.env.DEVICEHUB_PROMTOOL ?? 'promtool';
    this.#concurrency = options.concurrency ?? 2;
    this.#maxWaiting = options.maxWaiting ?? 32;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    if (!(Number.isInteger(this.#concurrency) && this.#concurrency >= 1))
      throw new RangeError(`Cannot run promtool: concurrency must be ≥ 1, got ${this.#concurrency}`);
  }

  /** Checks a rule file's text; a refusal carries promtool's message (the temporary path left out). */
  async checkRules(text: string): Promise<RuleCheck> {
    await this.#turn();
    let dir: string | undefined;
    try {
      dir = await mkdtemp(join(tmpdir(), 'dh-rules-'));
      const file = join(dir, 'rules.yml');
      await writeFile(file, text);
      const { code, output } = await this.#run(['check', 'rules', file]);
      if (code === 0) return { ok: true };
      const message = output
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('Checking ') && l !== 'FAILED:')
        .map((l) => l.replaceAll(`${file}: `, '').replaceAll(file, 'rules.yml'))
        .join('; ');
      return { ok: false, message: message || `promtool exited with ${code}` };
    } finally {
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      this.#release();
    }
  }

  #run(args: string[]): Promise<{ code: number; output: string }> {
    return new Promise((resolve, reject) => {
      execFile(
        this.#binary,
        args,
        { timeout: this.#timeoutMs, maxBuffer: 1 << 20 },
        (error, stdout, stderr) => {
          const output = `${stdout}\n${stderr}`;
          if (error === null) return resolve({ code: 0, output });
          const e = error as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
          if (e.code === 'ENOENT')
            return reject(new PromtoolError('UNAVAILABLE', `promtool not found (${this.#binary})`));
          if (e.killed)
            return reject(
              new PromtoolError('UNAVAILABLE', `promtool took longer than ${this.#timeoutMs} ms`),
            );
          resolve({ code: typeof e.code === 'number' ? e.code : 1, output });
        },
      );
    });
  }

  async #turn(): Promise<void> {
    if (this.#running < this.#concurrency) {
      this.#running++;
      return;
    }
    if (this.#waiting.length >= this.#maxWaiting)
      throw new PromtoolError('BUSY', 'Too many rule checks at once; try again');
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined)
      next(); // the turn passes on; #running stays
    else this.#running--;
  }
}
