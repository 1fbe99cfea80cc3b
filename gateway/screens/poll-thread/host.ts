/**
 * The main thread's side of the snapshot-poll thread (thread.ts, decision 065): starts it on its
 * own port, answers what it hands over through the gateway's app (so every refusal is the app's
 * own), tells it which scopes an Authorization header may see and until when (the
 * authenticator's cached lookup, at most `holdMs`, dropped at once when the authenticator forgets
 * credentials), and after every tick of the read model sends the new versions of the scopes it
 * holds — with the snapshot's bytes for a small scope, made once per version here and moved, not
 * copied, to the thread. A thread that dies is started again on the same port.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../../actors/mod.ts';
import { toError } from '../../../bus/mod.ts';
import { type Authenticator, hasScope } from '../../auth.ts';
import type { FleetView } from '../../fleet-view.ts';
import type { ScreenModel } from '../read-model.ts';
import { screenScopeOf } from '../scope-access.ts';
import { KEEP_SNAPSHOT_FROM, type ScopeView } from '../scope-view.ts';
import type { Ask, PollThreadData, ScopeRule, ScopeState, ToMain, ToThread } from './messages.ts';

export interface PollThreadOptions {
  /** 0: a free one. Several processes may listen on the same port (SO_REUSEPORT). */
  readonly port: number;
  readonly hostname: string;
  /** The gateway's own request handler: what the thread hands over is answered by it. */
  readonly fetch: (request: Request, env: unknown) => Response | Promise<Response>;
  readonly auth: Authenticator;
  readonly view: FleetView;
  readonly model: ScreenModel;
  readonly log: Logger;
  /** How long the thread holds a header's rule at most (ms, default 5000): a screen moved to another scope sees it by then. */
  readonly holdMs?: number;
  /** A scope nobody polled for this long is dropped by the thread (ms, default 30,000). */
  readonly idleMs?: number;
}

export interface PollThread extends AsyncDisposable {
  /** `http://host:port` of the thread's listener. */
  readonly url: string;
  close(): Promise<void>;
}

const THREAD = new URL('./thread.ts', import.meta.url);

/** The scope a handed-over path names (`/v1/screens/<scope>[?…]`), or '' when it is not one. */
function scopeName(path: string): string {
  try {
    return decodeURIComponent(new URL(path, 'http://gateway').pathname.slice('/v1/screens/'.length));
  } catch {
    return '';
  }
}

export async function startPollThread(o: PollThreadOptions): Promise<PollThread> {
  const holdMs = o.holdMs ?? 5000;
  const log = o.log.child({ component: 'screen-poll-thread' });
  /** The scopes the thread holds, with the version it was last sent. */
  const watched = new Map<string, string>();
  let worker: Worker;
  let closing = false;
  let restartTimer: ReturnType<typeof setTimeout> | undefined;

  const send = (message: ToThread, transfer: ArrayBuffer[] = []) => worker.postMessage(message, transfer);

  const ruleOf = (header: string): ScopeRule | undefined => {
    const principal = o.auth.cachedPrincipal(header);
    const until = Math.min(Date.now() + holdMs, o.auth.cachedUntil(header) ?? 0);
    if (principal === undefined) return undefined;
    if (principal.kind === 'key') return hasScope(principal, 'operator') ? { any: true, until } : undefined;
    const scope = screenScopeOf(o.view, principal.id);
    return scope === undefined ? undefined : { scope, until };
  };

  /** A scope's state for the thread; `transfer` gets the bytes' buffer. */
  const stateOf = (s: ScopeView, transfer: ArrayBuffer[]): ScopeState => {
    if (s.members.size >= KEEP_SNAPSHOT_FROM) return { name: s.name, id: s.id };
    const body = new Uint8Array(s.snapshot().body); // a copy of its own: moved to the thread
    transfer.push(body.buffer);
    return { name: s.name, id: s.id, body };
  };

  const answer = async (ask: Ask) => {
    const request = new Request(`http://gateway${ask.path}`, { headers: ask.headers });
    // requireAuth reads the peer's address from node's request: the thread's peer's.
    const env = { incoming: { socket: { remoteAddress: ask.address } } };
    const res = await o.fetch(request, env);
    const body = new Uint8Array(await res.arrayBuffer());
    const transfer = [body.buffer as ArrayBuffer];
    let rule: ScopeRule | undefined;
    let scope: ScopeState | undefined;
    const header = ask.headers.authorization;
    if ((res.status === 200 || res.status === 304) && header !== undefined) {
      rule = ruleOf(header);
      const s = o.model.scope(scopeName(ask.path));
      if (rule !== undefined && s !== undefined) {
        scope = stateOf(s, transfer);
        watched.set(s.name, s.id);
      }
    }
    send(
      { type: 'answer', seq: ask.seq, status: res.status, headers: [...res.headers], body, rule, scope },
      transfer,
    );
  };

  const onMessage = (message: ToMain) => {
    switch (message.type) {
      case 'ask':
        answer(message).catch((err: unknown) => {
          log.warn({ err: toError(err), path: message.path }, 'a handed-over snapshot poll failed');
          const body = new TextEncoder().encode(
            JSON.stringify({
              error: { code: 'INTERNAL', message: 'The gateway failed to answer this poll' },
            }),
          );
          send({
            type: 'answer',
            seq: message.seq,
            status: 500,
            headers: [['content-type', 'application/json']],
            body,
          });
        });
        return;
      case 'refresh':
        send({ type: 'rule', header: message.header, rule: ruleOf(message.header) });
        return;
      case 'unwatch':
        for (const name of message.names) watched.delete(name);
        return;
      case 'listening':
        return; // start() waits for it
    }
  };

  const afterTick = () => {
    if (watched.size === 0) return;
    const list: ScopeState[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const [name, sent] of watched) {
      const s = o.model.scope(name);
      if (s === undefined) {
        watched.delete(name);
        list.push({ name, id: '', gone: true });
      } else if (s.id !== sent) {
        watched.set(s.name, s.id);
        list.push(stateOf(s, transfer));
      }
    }
    if (list.length > 0) send({ type: 'scopes', list }, transfer);
  };

  const start = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const data: PollThreadData = {
        port,
        hostname: o.hostname,
        counters: o.model.threadPolls.buffer as SharedArrayBuffer,
        idleMs: o.idleMs ?? 30_000,
        refreshAheadMs: Math.min(2500, holdMs / 2),
      };
      watched.clear();
      worker = new Worker(THREAD, { workerData: data });
      worker.on('message', (message: ToMain) => {
        if (message.type !== 'listening') {
          onMessage(message);
          return;
        }
        if (message.error !== undefined) reject(new Error(`screen poll port ${port}: ${message.error}`));
        else resolve(message.port!);
      });
      worker.on('error', (err) => log.error({ err }, 'the screen poll thread failed'));
      worker.on('exit', (code) => {
        if (closing) return;
        reject(new Error(`the screen poll thread exited (${code}) before listening`));
        if (bound === undefined) return; // never listened: start's caller has the error
        log.error({ code }, 'the screen poll thread exited; starting it again in 1 s');
        restartTimer = setTimeout(() => {
          start(bound!).catch((err: unknown) =>
            log.error({ err: toError(err) }, 'the screen poll thread did not start again'),
          );
        }, 1000);
      });
    });

  let bound: number | undefined;
  bound = await start(o.port);
  const unsubscribeTick = o.model.onTick(afterTick);
  const unsubscribeForget = o.auth.onForget(() => send({ type: 'forget' }));
  const close = async () => {
    if (closing) return;
    closing = true;
    clearTimeout(restartTimer);
    unsubscribeTick();
    unsubscribeForget();
    await worker.terminate();
  };
  const host = o.hostname.includes(':') ? `[${o.hostname}]` : o.hostname;
  return { url: `http://${host}:${bound}`, close, [Symbol.asyncDispose]: close };
}
