/**
 * A small Chrome DevTools protocol client for a process listening with `--inspect`: the bench's
 * memory tools (survivors.ts, heap-census.ts, gc-profile.ts) call its methods and read its events.
 */
import WebSocket from 'ws';

export interface Inspector {
  /** Calls a protocol method; rejects with the protocol's error. */
  call(method: string, params?: Record<string, unknown>): Promise<unknown>;
  /** Calls `fn` with the params of each `method` event. */
  on(method: string, fn: (params: unknown) => void): void;
  /** Evaluates an expression in the process; its value comes back as JSON (returnByValue). */
  evaluate(expression: string): Promise<unknown>;
  close(): void;
}

/** Connects to the first inspector target of the process listening on `port`. */
export async function openInspector(port: number): Promise<Inspector> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    webSocketDebuggerUrl?: string;
  }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (url === undefined) throw new Error(`no inspector target on port ${port}`);
  // A heap snapshot comes in chunks of up to ~100 KB; a reply may be larger.
  const socket = new WebSocket(url, { maxPayload: 1 << 30 });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  type Reply = {
    id?: number;
    method?: string;
    params?: unknown;
    result?: unknown;
    error?: { message: string };
  };
  const pending = new Map<number, (reply: Reply) => void>();
  const listeners = new Map<string, ((params: unknown) => void)[]>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as Reply;
    if (message.id !== undefined) pending.get(message.id)?.(message);
    else if (message.method !== undefined)
      for (const fn of listeners.get(message.method) ?? []) fn(message.params);
  });
  let last = 0;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = ++last;
      pending.set(id, (reply) => {
        pending.delete(id);
        if (reply.error !== undefined) reject(new Error(`${method}: ${reply.error.message}`));
        else resolve(reply.result);
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
  return {
    call,
    on(method, fn) {
      listeners.set(method, [...(listeners.get(method) ?? []), fn]);
    },
    async evaluate(expression) {
      const reply = (await call('Runtime.evaluate', {
        expression,
        returnByValue: true,
        awaitPromise: true,
      })) as {
        result: { value?: unknown };
        exceptionDetails?: { exception?: { description?: string }; text: string };
      };
      if (reply.exceptionDetails !== undefined)
        throw new Error(
          `evaluate: ${reply.exceptionDetails.exception?.description ?? reply.exceptionDetails.text}`,
        );
      return reply.result.value;
    },
    close: () => socket.close(),
  };
}
