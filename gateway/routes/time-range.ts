/**
 * The `from`/`to` query parameters the history APIs share (alarms, logs): an ISO 8601 time or ms
 * since the epoch each, `to` default now, `from` default a span before it; a range past the widest
 * allowed, or `from` after `to`, is refused naming `from`.
 */
import { z } from '@hono/zod-openapi';

const DAY_MS = 86_400_000;

/** ms since the epoch from an ISO 8601 time or a number of ms; undefined when it is neither. */
export function parseTime(s: string): number | undefined {
  if (/^\d{1,15}$/.test(s)) return Number(s);
  if (!/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}(:?\d{2})?)?)?$/.test(s)) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? ms : undefined;
}

/** An optional time query parameter (ISO 8601 or ms). */
export const timeParam = (description: string) =>
  z
    .string()
    .refine((s) => parseTime(s) !== undefined, 'an ISO 8601 time or milliseconds since the epoch')
    .optional()
    .openapi({ description, example: '2026-11-30T00:00:00Z' });

type RangeParams = { from?: string | undefined; to?: string | undefined };

export interface TimeRange {
  /** The range a query asks for, ms: `to` default now, `from` default `defaultMs` before it. */
  rangeOf(q: RangeParams, now?: number): { from: number; to: number };
  /** For `.superRefine`: `from` after `to`, or a range wider than `maxMs`, is an issue on `from`. */
  check(q: RangeParams, ctx: z.RefinementCtx): void;
}

/**
 * The range rules of one API: `defaultMs` without `from`, at most `maxMs` (whole days), `advice`
 * the refusal's hint (e.g. 'ask day by day').
 */
export function timeRange(o: { defaultMs: number; maxMs: number; advice: string }): TimeRange {
  const rangeOf = (q: RangeParams, now = Date.now()) => {
    const to = q.to === undefined ? now : (parseTime(q.to) ?? now);
    const from = q.from === undefined ? to - o.defaultMs : (parseTime(q.from) ?? to);
    return { from, to };
  };
  const check = (q: RangeParams, ctx: z.RefinementCtx) => {
    if ([q.from, q.to].some((t) => t !== undefined && parseTime(t) === undefined)) return;
    const { from, to } = rangeOf(q);
    if (from > to)
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after to', input: q.from });
    else if (to - from > o.maxMs)
      ctx.addIssue({
        code: 'custom',
        path: ['from'],
        message: `the range from..to spans ${Math.ceil((to - from) / DAY_MS)} days, at most ${o.maxMs / DAY_MS} (${o.advice})`,
        input: q.from,
      });
  };
  return { rangeOf, check };
}
