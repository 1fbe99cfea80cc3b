/**
 * The few pieces of Kafka's wire format the credential admin speaks (https://kafka.apache.org/protocol):
 * big-endian integers, classic strings and bytes (int16/int32 lengths), the compact forms of
 * flexible versions (unsigned varint length + 1, 0 for null) and empty tagged-field sections.
 */
import { KafkaAuthError } from './errors.ts';

export class Writer {
  readonly #parts: Buffer[] = [];

  int8(v: number): this {
    const b = Buffer.alloc(1);
    b.writeInt8(v);
    return this.#push(b);
  }
  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    return this.#push(b);
  }
  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    return this.#push(b);
  }
  uvarint(v: number): this {
    const bytes: number[] = [];
    let n = v >>> 0;
    while (n >= 0x80) {
      bytes.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    bytes.push(n);
    return this.#push(Buffer.from(bytes));
  }
  /** A classic STRING (int16 length; -1 for null). */
  string(v: string | null): this {
    if (v === null) return this.int16(-1);
    const b = Buffer.from(v, 'utf8');
    return this.int16(b.length).#push(b);
  }
  /** Classic BYTES (int32 length). */
  bytes(v: Buffer): this {
    return this.int32(v.length).#push(v);
  }
  compactString(v: string): this {
    const b = Buffer.from(v, 'utf8');
    return this.uvarint(b.length + 1).#push(b);
  }
  compactBytes(v: Buffer): this {
    return this.uvarint(v.length + 1).#push(v);
  }
  /** A compact array (null when `items` is null), each item written by `each`. */
  compactArray<T>(items: readonly T[] | null, each: (w: this, item: T) => void): this {
    if (items === null) return this.uvarint(0);
    this.uvarint(items.length + 1);
    for (const item of items) each(this, item);
    return this;
  }
  /** An empty tagged-field section. */
  tags(): this {
    return this.uvarint(0);
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.#parts);
  }
  #push(b: Buffer): this {
    this.#parts.push(b);
    return this;
  }
}

export class Reader {
  readonly #b: Buffer;
  #at = 0;

  constructor(b: Buffer) {
    this.#b = b;
  }

  int8(): number {
    return this.#read(1, (at) => this.#b.readInt8(at));
  }
  int16(): number {
    return this.#read(2, (at) => this.#b.readInt16BE(at));
  }
  int32(): number {
    return this.#read(4, (at) => this.#b.readInt32BE(at));
  }
  int64(): bigint {
    return this.#read(8, (at) => this.#b.readBigInt64BE(at));
  }
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.#read(1, (at) => this.#b.readUInt8(at));
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
    }
    throw new KafkaAuthError('PROTOCOL', 'Kafka answer: a varint longer than 5 bytes');
  }
  string(): string | null {
    const n = this.int16();
    return n < 0 ? null : this.#read(n, (at) => this.#b.toString('utf8', at, at + n));
  }
  bytes(): Buffer | null {
    const n = this.int32();
    return n < 0 ? null : this.#read(n, (at) => this.#b.subarray(at, at + n));
  }
  compactString(): string | null {
    const n = this.uvarint() - 1;
    return n < 0 ? null : this.#read(n, (at) => this.#b.toString('utf8', at, at + n));
  }
  compactArray<T>(each: (r: this) => T): T[] | null {
    const n = this.uvarint() - 1;
    if (n < 0) return null;
    const items: T[] = [];
    for (let i = 0; i < n; i++) items.push(each(this));
    return items;
  }
  /** Skips a tagged-field section (the admin reads no tagged field). */
  tags(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint(); // tag
      const size = this.uvarint();
      this.#read(size, () => undefined);
    }
  }
  #read<T>(n: number, get: (at: number) => T): T {
    if (this.#at + n > this.#b.length) {
      throw new KafkaAuthError('PROTOCOL', `Kafka answer: truncated at byte ${this.#at} (wanted ${n} more)`);
    }
    const value = get(this.#at);
    this.#at += n;
    return value;
  }
}

/** One request's frame: size, header (v1, or v2 with tags for flexible versions), body. */
export function frame(
  header: { apiKey: number; apiVersion: number; correlationId: number; clientId: string; flexible: boolean },
  body: Buffer,
): Buffer {
  const w = new Writer()
    .int16(header.apiKey)
    .int16(header.apiVersion)
    .int32(header.correlationId)
    .string(header.clientId);
  if (header.flexible) w.tags();
  const head = w.toBuffer();
  const size = Buffer.alloc(4);
  size.writeInt32BE(head.length + body.length);
  return Buffer.concat([size, head, body]);
}
