/**
 * Alertmanager's API v2 as the gateway uses it: the alerts it holds (firing, silenced or not)
 * and the silences (list, create, expire). Alertmanager unreachable is UNAVAILABLE (503); a
 * silence it refuses is INVALID_REQUEST (400) with its message; one it does not know, NOT_FOUND.
 */
import { ApiError } from '../errors.ts';

export interface AmMatcher {
  readonly name: string;
  readonly value: string;
  readonly isRegex: boolean;
  readonly isEqual?: boolean;
}

export interface AmSilence {
  readonly id: string;
  readonly status: { readonly state: string };
  readonly matchers: readonly AmMatcher[];
  readonly startsAt: string;
  readonly endsAt: string;
  readonly updatedAt?: string;
  readonly createdBy: string;
  readonly comment: string;
}

export interface AmAlert {
  readonly fingerprint: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt?: string;
  readonly status: { readonly state: string; readonly silencedBy: string[]; readonly inhibitedBy: string[] };
}

export class AlertmanagerClient {
  readonly #url: string;
  readonly #timeoutMs: number;

  constructor(url: string, options: { timeoutMs?: number } = {}) {
    new URL(url); // a bad URL fails at start
    this.#url = url.endsWith('/') ? url : `${url}/`;
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  silences(): Promise<AmSilence[]> {
    return this.#call('api/v2/silences', { method: 'GET' }) as Promise<AmSilence[]>;
  }

  async createSilence(silence: Omit<AmSilence, 'id' | 'status' | 'updatedAt'>): Promise<string> {
    const body = (await this.#call('api/v2/silences', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(silence),
    })) as { silenceID: string };
    return body.silenceID;
  }

  /** Expires a silence; NOT_FOUND when Alertmanager has none of that id (its DELETE answers 500 then). */
  async expireSilence(id: string): Promise<void> {
    await this.#call(`api/v2/silence/${encodeURIComponent(id)}`, { method: 'GET' });
    await this.#call(`api/v2/silence/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  alerts(): Promise<AmAlert[]> {
    return this.#call('api/v2/alerts?active=true&silenced=true&inhibited=true', {
      method: 'GET',
    }) as Promise<AmAlert[]>;
  }

  async #call(path: string, init: RequestInit): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.#url), { ...init, signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (error) {
      throw new ApiError('UNAVAILABLE', `Alertmanager did not answer: ${(error as Error).message}`);
    }
    const text = await res.text();
    if (res.status === 404) throw new ApiError('NOT_FOUND', `Alertmanager: ${text.trim() || 'not found'}`);
    if (res.status >= 400 && res.status < 500)
      throw new ApiError('INVALID_REQUEST', `Alertmanager refused it: ${text.trim()}`);
    if (!res.ok) throw new ApiError('UNAVAILABLE', `Alertmanager answered ${res.status}: ${text.trim()}`);
    return text === '' ? undefined : JSON.parse(text);
  }
}
