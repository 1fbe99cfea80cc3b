/**
 * Failures per CDN mirror, as the agent counts them across downloads: errors (refused, HTTP
 * status, cut), timeouts (stalled), and wrong bytes (a SHA-256 that is not the signed one, or a
 * range not asked for). Nothing sends them to the hub yet: each failure is also logged with its
 * mirror, where an operator sees which cache misbehaves.
 */
export type MirrorFailure = 'error' | 'timeout' | 'hash';

export interface MirrorFailures {
  error: number;
  timeout: number;
  hash: number;
}

export class MirrorCounters {
  readonly #byMirror = new Map<string, MirrorFailures>();

  count(mirror: string, failure: MirrorFailure): void {
    let counts = this.#byMirror.get(mirror);
    if (counts === undefined) {
      counts = { error: 0, timeout: 0, hash: 0 };
      this.#byMirror.set(mirror, counts);
    }
    counts[failure]++;
  }

  /** A mirror's counts (zeros for one never failed). */
  get(mirror: string): Readonly<MirrorFailures> {
    return { error: 0, timeout: 0, hash: 0, ...this.#byMirror.get(mirror) };
  }
}
