/**
 * Uploads the frame queue to the gateway, oldest first, one at a time, with the edge's own
 * credentials (`PUT /v1/edges/{id}/frames/{eventId}?index=`, `Basic <edgeId:secret>` as its
 * configuration polls): a frame leaves the queue once stored (201) or found stored already (200),
 * or when the gateway refuses it for good (400, 403, 409, 413, 415: retrying would not change the
 * answer; logged and counted). Anything else — the gateway unreachable, a 5xx, a 401 while a
 * rotated secret is adopted, a 429 — keeps it queued and tries again after a doubling, capped wait.
 * Runs beside the message queue and never holds it up: an alarm goes out at once, naming frames
 * that follow.
 */
import { edgeAuthorization } from './credentials.ts';
import { FrameQueue, type FrameSourceOptions, type QueuedFrame } from './frame-queue.ts';
import { AgentHttpClient, type AgentTls } from './http-client.ts';
import type { Logger } from './logger.ts';

export interface FrameUploaderOptions {
  readonly edgeId: string;
  /** The edge's secret now (it changes when a rotation is adopted). */
  readonly password: () => string;
  /** The gateway's base URL (the configuration service's). */
  readonly url: string;
  readonly http: AgentHttpClient;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** Waits between failed attempts: doubling from `firstMs` (1 s) up to `maxMs` (60 s). */
  readonly retry?: { readonly firstMs?: number; readonly maxMs?: number };
}

/** The agent's `frames` option: where frames come from, which alarms take them, where they go. */
export interface AgentFrames extends FrameSourceOptions {
  /** The alarm kinds that take frames (default the default recognition policy's: trapped, person_down, ebike). */
  readonly kinds?: readonly string[];
  /** The gateway's base URL (default the agent's `configUrl`). */
  readonly url?: string;
  /** Waits between failed uploads (default 1 s doubling to 60 s). */
  readonly retry?: FrameUploaderOptions['retry'];
}

export interface FrameStats {
  /** Frames waiting on disk. */
  readonly queued: number;
  readonly uploaded: number;
  /** Refused for good by the gateway, or dropped by the queue's bound. */
  readonly refused: number;
  readonly dropped: number;
  /** Failed attempts (each tried again). */
  readonly failures: number;
}

/** Statuses that retrying the same bytes cannot change. */
const FINAL = new Set([400, 403, 409, 413, 415]);

export class FrameUploader {
  readonly #o: FrameUploaderOptions;
  readonly #queue: FrameQueue;
  #uploaded = 0;
  #refused = 0;
  #failures = 0;
  #pumping = false;
  #wait = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(queue: FrameQueue, options: FrameUploaderOptions) {
    this.#queue = queue;
    this.#o = options;
    options.signal.addEventListener('abort', () => clearTimeout(this.#timer), { once: true });
  }

  get stats(): FrameStats {
    return {
      queued: this.#queue.length,
      uploaded: this.#uploaded,
      refused: this.#refused,
      dropped: this.#queue.dropped,
      failures: this.#failures,
    };
  }

  /**
   * Queues the candidate frames of an alarm at `now` and starts uploading them: the vision event
   * they make (the alarm start names it), or undefined when there are none.
   */
  capture(now: number): { eventId: string; frames: number } | undefined {
    const event = this.#queue.capture(now);
    if (event !== undefined) this.kick();
    return event;
  }

  /** Uploads what waits (called after a capture, at start, and by the retry timer). */
  kick(): void {
    if (this.#timer !== undefined) return; // a retry is scheduled: it runs then
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (let frame = this.#queue.peek(); frame !== undefined; frame = this.#queue.peek()) {
        if (this.#o.signal.aborted) return;
        if (!(await this.#upload(frame))) {
          this.#retryLater();
          return;
        }
        this.#wait = 0;
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** One attempt: true when the frame is done with (stored, or refused for good). */
  async #upload(frame: QueuedFrame): Promise<boolean> {
    const { edgeId, url, http, log, signal } = this.#o;
    const target = `${url}/v1/edges/${encodeURIComponent(edgeId)}/frames/${frame.eventId}?index=${frame.index}`;
    let bytes: Buffer;
    try {
      bytes = this.#queue.read(frame);
    } catch (err) {
      log.warn({ err, eventId: frame.eventId, index: frame.index }, 'queued frame unreadable; dropped');
      this.#queue.remove(frame);
      this.#refused++;
      return true;
    }
    try {
      const answer = await http.request(target, {
        what: 'frame upload',
        method: 'PUT',
        headers: {
          authorization: edgeAuthorization(edgeId, this.#o.password()),
          'content-type': 'image/jpeg',
          'content-length': String(bytes.length),
        },
        body: bytes,
        signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)]),
      });
      if (answer.status === 200 || answer.status === 201) {
        this.#queue.remove(frame);
        this.#uploaded++;
        return true;
      }
      if (FINAL.has(answer.status)) {
        log.warn(
          {
            eventId: frame.eventId,
            index: frame.index,
            status: answer.status,
            answer: answer.body.slice(0, 300),
          },
          'frame refused by the gateway; dropped',
        );
        this.#queue.remove(frame);
        this.#refused++;
        return true;
      }
      log.warn({ eventId: frame.eventId, status: answer.status }, 'frame not uploaded; trying again');
    } catch (err) {
      if (signal.aborted) return false;
      log.warn({ err, eventId: frame.eventId }, 'frame upload failed; keeping it, trying again');
    }
    this.#failures++;
    return false;
  }

  #retryLater(): void {
    if (this.#o.signal.aborted) return;
    const firstMs = this.#o.retry?.firstMs ?? 1000;
    const maxMs = this.#o.retry?.maxMs ?? 60_000;
    this.#wait = Math.min(maxMs, this.#wait === 0 ? firstMs : this.#wait * 2);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#pump();
    }, this.#wait);
  }
}

/** The frame queue and its uploader, when the options ask for frames and name a gateway. */
export function frameUploader(
  options: {
    readonly edgeId: string;
    readonly dataDir: string;
    readonly configUrl?: string;
    readonly configTls?: AgentTls;
    readonly frames?: AgentFrames;
  },
  o: { password: () => string; log: Logger; signal: AbortSignal },
): FrameUploader | undefined {
  const { frames } = options;
  const url = frames?.url ?? options.configUrl;
  if (frames === undefined || url === undefined) return undefined;
  const http = new AgentHttpClient(options.configTls);
  o.signal.addEventListener('abort', () => http.close(), { once: true });
  return new FrameUploader(new FrameQueue(options.dataDir, frames), {
    edgeId: options.edgeId,
    url,
    http,
    ...o,
    ...(frames.retry === undefined ? {} : { retry: frames.retry }),
  });
}
