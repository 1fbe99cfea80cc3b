/**
 * The agent's store-and-forward queue: messages waiting for the broker, in order, in an
 * append-only file so that a restart or a broker outage loses nothing. Bounded: past `maxBytes`
 * the oldest QoS 0 messages (status, health) go first, alarms last; drops are counted.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface QueuedMessage {
  readonly topic: string;
  readonly qos: 0 | 1;
  readonly payload: Uint8Array;
}

export class DiskQueue {
  readonly #file: string;
  readonly #maxBytes: number;
  #items: QueuedMessage[] = [];
  #bytes = 0;
  #removedSinceCompaction = 0;
  dropped = 0;

  constructor(dir: string, options: { maxBytes?: number } = {}) {
    const { maxBytes = 8 * 1024 * 1024 } = options;
    if (!(maxBytes >= 1024))
      throw new RangeError(`Cannot open queue: maxBytes must be ≥ 1024, got ${maxBytes}`);
    mkdirSync(dir, { recursive: true });
    this.#file = join(dir, 'queue.log');
    this.#maxBytes = maxBytes;
    if (existsSync(this.#file)) {
      for (const line of readFileSync(this.#file, 'utf8').split('\n')) {
        if (line === '-') this.#removeHead();
        if (line === '' || line === '-') continue;
        const [topic, qos, data] = line.split('\t');
        if (topic === undefined || data === undefined) continue; // a torn last line
        this.#push({ topic, qos: qos === '1' ? 1 : 0, payload: Buffer.from(data, 'base64') });
      }
      this.#compact();
    }
  }

  get length(): number {
    return this.#items.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  peek(): QueuedMessage | undefined {
    return this.#items[0];
  }

  push(message: QueuedMessage): void {
    appendFileSync(
      this.#file,
      `${message.topic}\t${message.qos}\t${Buffer.from(message.payload).toString('base64')}\n`,
    );
    this.#push(message);
    while (this.#bytes > this.#maxBytes && this.#items.length > 1) {
      const victim = this.#items.findIndex((m) => m.qos === 0);
      this.#bytes -= this.#items.splice(victim === -1 ? 0 : victim, 1)[0]!.payload.byteLength;
      this.dropped++;
      this.#rewrite();
    }
  }

  /** Removes the head (it reached the broker). */
  shift(): void {
    if (!this.#removeHead()) return;
    appendFileSync(this.#file, '-\n');
    this.#removedSinceCompaction++;
    if (this.#removedSinceCompaction > 1000 && this.#removedSinceCompaction > this.#items.length)
      this.#compact();
  }

  #push(message: QueuedMessage): void {
    this.#items.push(message);
    this.#bytes += message.payload.byteLength;
  }

  #removeHead(): boolean {
    const head = this.#items.shift();
    if (head === undefined) return false;
    this.#bytes -= head.payload.byteLength;
    return true;
  }

  #compact(): void {
    this.#rewrite();
    this.#removedSinceCompaction = 0;
  }

  #rewrite(): void {
    const tmp = `${this.#file}.tmp`;
    writeFileSync(
      tmp,
      this.#items.map((m) => `${m.topic}\t${m.qos}\t${Buffer.from(m.payload).toString('base64')}\n`).join(''),
    );
    renameSync(tmp, this.#file);
  }
}
