/**
 * The agent's log shipping (docs/decisions/038): every `tickMs` it reads the configured files
 * (log-tail.ts, rotation-safe) and its own lines (the logger it was given, teed: source `agent`),
 * keeps the lines at the level in force or worse (log-settings.ts: the override until its end,
 * then the configured level, by itself), within the edge's budget (lines a second with a burst of
 * ten seconds' worth, bytes a UTC day; the rest dropped and counted), packs them into `log`
 * batches (edge/protocol/logs.ts) and hands them to the forwarder's log queue, which sends them
 * only when telemetry and alarms are through. File positions are saved once their lines are
 * queued on disk, so a restart resumes where it was.
 */
import { isUtf8 } from 'node:buffer';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeLogBatches, LineBudget, type LogLine, type LogLineLevel, lineBytes } from '../protocol/mod.ts';
import { atLeast, type EdgeLogsConfig, LOG_DEFAULTS, levelAt, parseLevel } from './log-settings.ts';
import { FileTail, type TailPosition } from './log-tail.ts';
import type { Logger } from './logger.ts';

export interface AgentLogsOptions {
  readonly dataDir: string;
  /** Queues an encoded batch (the forwarder's `sendLog`). */
  readonly send: (batch: Uint8Array) => void;
  /** Batches the log queue dropped past its bound (the forwarder's). */
  readonly queueDropped?: () => number;
  /** Where the agent's own warnings about shipping go (not teed: no loop). */
  readonly log: Logger;
  /** How often files are read and batches packed (default 2000 ms). */
  readonly tickMs?: number;
  readonly now?: () => number;
}

export interface AgentLogStats {
  /** The level in force now. */
  readonly level: LogLineLevel;
  /** When the override in force ends (ISO), if one is. */
  readonly overrideUntil?: string;
  readonly files: number;
  /** Reads of the files done (one per tick). */
  readonly ticks: number;
  /** Lines queued for the hub. */
  readonly shipped: number;
  readonly batches: number;
  /** Lines under the level in force (not shipped, not a drop). */
  readonly filtered: number;
  /** Lines dropped: over lines/s, over bytes/day, own lines past the buffer between ticks, batches past the disk queue's bound. */
  readonly dropped: {
    readonly rate: number;
    readonly bytes: number;
    readonly buffer: number;
    readonly queueBatches: number;
  };
}

/** Own lines held between two ticks at most. */
const MAX_OWN_LINES = 2000;

export class AgentLogs {
  readonly #o: AgentLogsOptions;
  readonly #now: () => number;
  readonly #offsetsFile: string;
  #config: EdgeLogsConfig | undefined;
  #tails: { tail: FileTail; source: string }[] = [];
  #own: LogLine[] = [];
  readonly #budget: LineBudget;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ticking: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #counts = { ticks: 0, shipped: 0, batches: 0, filtered: 0, rate: 0, bytes: 0, buffer: 0 };
  /** Drops already reported in a shipped line, and when (at most one such line a minute). */
  #reported = { drops: 0, at: Number.NEGATIVE_INFINITY };

  constructor(options: AgentLogsOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    mkdirSync(join(options.dataDir, 'logs'), { recursive: true });
    this.#offsetsFile = join(options.dataDir, 'logs', 'offsets.json');
    this.#budget = new LineBudget(this.#burst(), this.#now());
  }

  get stats(): AgentLogStats {
    const now = this.#now();
    const c = this.#counts;
    const until = this.#config?.override?.until;
    return {
      level: levelAt(this.#config, now),
      ...(until !== undefined && Date.parse(until) > now ? { overrideUntil: until } : {}),
      files: this.#tails.length,
      ticks: c.ticks,
      shipped: c.shipped,
      batches: c.batches,
      filtered: c.filtered,
      dropped: {
        rate: c.rate,
        bytes: c.bytes,
        buffer: c.buffer,
        queueBatches: this.#o.queueDropped?.() ?? 0,
      },
    };
  }

  /** Applies the configuration's `logs` (files added or removed; the level and budget from the next tick). */
  configure(config: EdgeLogsConfig | undefined): void {
    this.#config = config;
    const wanted = config?.files ?? [];
    const key = (f: { path: string; source: string }) => `${f.source}\u0000${f.path}`;
    const keep = new Set(wanted.map(key));
    for (const t of this.#tails)
      if (!keep.has(key({ path: t.tail.path, source: t.source }))) void t.tail.close();
    const have = new Map(this.#tails.map((t) => [key({ path: t.tail.path, source: t.source }), t]));
    const offsets = this.#readOffsets();
    this.#tails = wanted.map(
      (f) =>
        have.get(key(f)) ?? {
          source: f.source,
          tail: new FileTail(f.path, offsets[f.path] === undefined ? {} : { resume: offsets[f.path] }),
        },
    );
  }

  /** One of the agent's own lines (the teed logger). */
  own(level: LogLineLevel, fields: object, msg: string | undefined): void {
    if (this.#closed) return;
    if (this.#own.length >= MAX_OWN_LINES) {
      this.#counts.buffer++;
      return;
    }
    this.#own.push({ time: this.#now(), level, source: 'agent', msg: ownLine(fields, msg) });
  }

  /** Reads every tick until `close`. */
  start(): this {
    const run = () => {
      this.#ticking = this.tick()
        .catch((err: unknown) => this.#o.log.warn({ err }, 'log shipping tick failed'))
        .finally(() => {
          if (!this.#closed) this.#timer = setTimeout(run, this.#o.tickMs ?? 2000);
        });
    };
    this.#timer = setTimeout(run, this.#o.tickMs ?? 2000);
    return this;
  }

  /** Reads the files and the own lines once, and queues what passes as batches. */
  async tick(): Promise<void> {
    const now = this.#now();
    const level = levelAt(this.#config, now);
    const lines: LogLine[] = [];
    for (const { tail, source } of this.#tails)
      for (const raw of await tail.read().catch(() => [] as Buffer[])) {
        const text = raw.toString('utf8');
        lines.push({ time: now, level: parseLevel(text), source, msg: isUtf8(raw) ? text : raw });
      }
    const own = this.#own;
    this.#own = [];
    const shipped = this.#admit([...own, ...lines], level, now);
    const report = this.#dropReport(now);
    if (report !== undefined) shipped.push(report);
    if (shipped.length > 0) {
      for (const batch of encodeLogBatches(shipped)) {
        this.#o.send(batch);
        this.#counts.batches++;
      }
      this.#counts.shipped += shipped.length;
    }
    this.#saveOffsets();
    this.#counts.ticks++;
  }

  /** The lines at `level` or worse within the budget; the others counted. */
  #admit(lines: readonly LogLine[], level: LogLineLevel, now: number): LogLine[] {
    const perSecond = this.#config?.linesPerSecond ?? LOG_DEFAULTS.linesPerSecond;
    const perDay = this.#config?.bytesPerDay ?? LOG_DEFAULTS.bytesPerDay;
    this.#budget.refill(now, perSecond, this.#burst());
    const out: LogLine[] = [];
    for (const line of lines) {
      if (!atLeast(line.level, level)) {
        this.#counts.filtered++;
        continue;
      }
      const verdict = this.#budget.take(lineBytes(line.msg), perDay);
      if (verdict === 'taken') out.push(line);
      else this.#counts[verdict]++;
    }
    return out;
  }

  /**
   * A warn line from the agent saying what was dropped so far, when more was since the last one
   * and a minute has passed: shipped past the budget (it is what the budget hid), and logged.
   */
  #dropReport(now: number): LogLine | undefined {
    const { rate, bytes, buffer } = this.#counts;
    const drops = rate + bytes + buffer;
    if (drops <= this.#reported.drops || now - this.#reported.at < 60_000) return undefined;
    this.#reported = { drops, at: now };
    const dropped = { rate, bytes, buffer, queueBatches: this.#o.queueDropped?.() ?? 0 };
    this.#o.log.warn({ dropped }, 'log lines dropped over the edge’s log budget');
    return {
      time: now,
      level: 'warn',
      source: 'agent',
      msg: `log lines dropped over the budget ${JSON.stringify(dropped)}`,
    };
  }

  /** Ten seconds' worth of lines (at least 10). */
  #burst(): number {
    return Math.max(10, (this.#config?.linesPerSecond ?? LOG_DEFAULTS.linesPerSecond) * 10);
  }

  #readOffsets(): Record<string, TailPosition> {
    try {
      return JSON.parse(readFileSync(this.#offsetsFile, 'utf8')) as Record<string, TailPosition>;
    } catch {
      return {};
    }
  }

  #saveOffsets(): void {
    const offsets: Record<string, TailPosition> = {};
    for (const { tail } of this.#tails) {
      const at = tail.position;
      if (at !== undefined) offsets[tail.path] = at;
    }
    if (Object.keys(offsets).length === 0) return;
    writeFileSync(`${this.#offsetsFile}.tmp`, JSON.stringify(offsets));
    renameSync(`${this.#offsetsFile}.tmp`, this.#offsetsFile);
  }

  /** Stops reading; a last tick queues what was read already. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#ticking;
    if (this.#closed) return;
    await this.tick().catch(() => {});
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const { tail } of this.#tails) await tail.close();
  }
}

/** An own line as text: the message, then its fields as JSON (an error as its message). */
function ownLine(fields: object, msg: string | undefined): string {
  const flat: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) flat[k] = v instanceof Error ? v.message : v;
  let json = '';
  try {
    json = Object.keys(flat).length > 0 ? JSON.stringify(flat) : '';
  } catch {
    json = '{"fields":"unserialisable"}';
  }
  return [msg, json].filter(Boolean).join(' ');
}

/** `inner`, and each line also to `own` (children too, their bindings merged into the fields). */
export function teeLogger(
  inner: Logger,
  own: (level: LogLineLevel, fields: object, msg: string | undefined) => void,
  bindings: object = {},
): Logger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (obj: object, msg?: string): void => {
      inner[level](obj, msg);
      own(level, { ...bindings, ...obj }, msg);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => teeLogger(inner.child(more), own, { ...bindings, ...more }),
  };
}
