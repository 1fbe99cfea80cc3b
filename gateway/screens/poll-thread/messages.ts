/**
 * What the snapshot-poll thread (thread.ts) and the gateway's main thread (host.ts) say to each
 * other. The main thread owns every decision: the thread answers only from what it was told —
 * a scope's current version (and, for a small scope, its snapshot's bytes), and which scopes a
 * given Authorization header may see, until when — and hands everything else over (`ask`).
 */

/** A scope as the thread holds it: its version (`<epoch>.<n>`, the ETag), its snapshot when small. */
export interface ScopeState {
  readonly name: string;
  readonly id: string;
  /** The snapshot's JSON bytes; absent for a large scope (its 200s are asked of the main thread). */
  readonly body?: Uint8Array | undefined;
  /** No elevator in it any more: the thread forgets it (the next poll is asked, and gets a 404). */
  readonly gone?: true;
}

/**
 * What one Authorization header may see, held by the thread until `until` (ms since the epoch):
 * any scope (an operator or admin key) or one (a wall screen's own).
 */
export type ScopeRule =
  | { readonly any: true; readonly until: number }
  | { readonly scope: string; readonly until: number };

/** thread → main: answer this request (the app does, errors included). */
export interface Ask {
  readonly type: 'ask';
  readonly seq: number;
  /** The request's path and query, as it came. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The peer's address (the login limiter counts refusals against it). */
  readonly address: string | undefined;
}

/** main → thread: the app's answer to `seq`; with the rule and the scope to hold when it was a 200/304. */
export interface Answer {
  readonly type: 'answer';
  readonly seq: number;
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
  readonly rule?: ScopeRule | undefined;
  readonly scope?: ScopeState | undefined;
}

/** thread → main: tell me again what `header` may see (asked ahead of its rule's end). */
export interface Refresh {
  readonly type: 'refresh';
  readonly header: string;
}

/** main → thread: `header`'s rule now; undefined: forget it (its next poll is asked). */
export interface RuleUpdate {
  readonly type: 'rule';
  readonly header: string;
  readonly rule: ScopeRule | undefined;
}

/** thread → main: nobody polled these scopes for a while; stop sending their versions. */
export interface Unwatch {
  readonly type: 'unwatch';
  readonly names: readonly string[];
}

/** main → thread: the watched scopes that changed in the last tick. */
export interface Scopes {
  readonly type: 'scopes';
  readonly list: readonly ScopeState[];
}

/** main → thread: credentials were revoked, rotated or deregistered: drop every rule. */
export interface Forget {
  readonly type: 'forget';
}

/** thread → main, once: listening (its port), or why not. */
export interface Listening {
  readonly type: 'listening';
  readonly port?: number;
  readonly error?: string;
}

export type ToMain = Ask | Refresh | Unwatch | Listening;
export type ToThread = Answer | RuleUpdate | Scopes | Forget;

/** The counters the thread adds to and `/metrics` reads (a BigInt64Array over shared memory). */
export const COUNTER = { notModified: 0, snapshot: 1, asked: 2 } as const;
export const COUNTERS = 3;

/** The thread's `workerData`. */
export interface PollThreadData {
  readonly port: number;
  readonly hostname: string;
  readonly counters: SharedArrayBuffer;
  /** A scope nobody polled for this long is dropped (ms). */
  readonly idleMs: number;
  /** A rule is asked again this long before its end (ms). */
  readonly refreshAheadMs: number;
}
