/**
 * A scope's live stream as Server-Sent Events, written straight to the node response (no web
 * stream per client: 2,000 screens share each delta's one buffer): `retry:` (2–5 s, spread so a
 * restarted gateway's screens do not all come back at once), the snapshot (`event: snapshot`,
 * skipped when `Last-Event-ID` is the scope's current version), then `event: delta` frames with
 * `id: <epoch>.<version>`, and `: hb` comments between them. Backpressure: paced.ts. Everything
 * is released when the connection closes, whoever closes it, or after `maxMs`.
 */
import type { ServerResponse } from 'node:http';
import { PacedSubscriber } from './paced.ts';
import type { ScreenModel } from './read-model.ts';
import { HEARTBEAT, type ScopeView } from './scope-view.ts';

export interface SseOptions {
  readonly res: ServerResponse;
  readonly model: ScreenModel;
  readonly scope: ScopeView;
  readonly lastEventId?: string | undefined;
  /** The stream ends after this (ms; the screen reconnects); none: when the client goes. */
  readonly maxMs?: number | undefined;
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

export function serveSse(o: SseOptions): void {
  const { res, model, scope } = o;
  res.writeHead(200, SSE_HEADERS);
  res.write(`retry: ${2000 + Math.floor(Math.random() * 3000)}\n\n`);
  const sub = new PacedSubscriber(
    scope,
    {
      write: (frame) => res.write(frame.sse),
      heartbeat: () => res.write(HEARTBEAT.sse),
      buffered: () => res.writableLength,
    },
    model.paced,
  );
  if (o.lastEventId !== scope.id) res.write(scope.snapshot().sse);
  const unsubscribe = model.subscribe(scope, sub);
  const onDrain = () => sub.drained();
  res.on('drain', onDrain);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const end = () => {
    unsubscribe();
    clearTimeout(timer);
    res.off('drain', onDrain);
    if (!res.writableEnded) res.end();
  };
  res.once('close', end);
  res.once('error', end);
  if (o.maxMs !== undefined) timer = setTimeout(end, o.maxMs);
}
