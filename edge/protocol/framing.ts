/**
 * Bytes a message costs on the wire with its protocol framing (not TCP/IP), for the diet
 * benchmark: MQTT 5 PUBLISH (and PUBACK at QoS 1), and a Kafka produce request carrying one
 * record, as edges that send each message on its own do.
 */

/** Largest MQTT packet (remaining length is a 4-byte varint) and Kafka record this accounting takes. */
const MAX_FRAMED_BYTES = 268_435_455;

/** A byte count: a safe integer 0..MAX_FRAMED_BYTES (an Infinity would never leave varintBytes). */
function size(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > MAX_FRAMED_BYTES)
    throw new RangeError(
      `Cannot size a frame: ${what} must be an integer 0..${MAX_FRAMED_BYTES}, got ${typeof n === 'number' ? n : typeof n}`,
    );
  return n;
}

function varintBytes(n: number): number {
  let bytes = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    bytes++;
  }
  return bytes;
}

/** MQTT 5 PUBLISH with no properties; QoS 1 adds the packet id and a 4-byte PUBACK. */
export function mqttPublishBytes(topic: string, payloadBytes: number, qos: 0 | 1): number {
  size(payloadBytes, 'payloadBytes');
  const variableHeader = 2 + Buffer.byteLength(topic) + (qos > 0 ? 2 : 0) + 1; // topic, packet id, properties length
  const remaining = variableHeader + payloadBytes;
  const publish = 1 + varintBytes(remaining) + remaining;
  return publish + (qos > 0 ? 4 : 0);
}

/** A Kafka record to size: where it goes, its key, its value's length and the producer's client id. */
export interface KafkaRecordFrame {
  readonly topic: string;
  readonly key: string;
  /** The value's length in bytes. */
  readonly valueBytes: number;
  /** The producer's client id (default `edge`). */
  readonly clientId?: string;
}

/**
 * Kafka (v2 record batch) produce request with a single record: request header with client id,
 * topic and partition framing, the 61-byte batch header and the record itself.
 */
export function kafkaProduceBytes(frame: KafkaRecordFrame): number {
  const { topic, key, valueBytes, clientId = 'edge' } = frame;
  size(valueBytes, 'valueBytes');
  const keyBytes = Buffer.byteLength(key);
  const recordBody =
    1 + 1 + 1 + varintBytes(keyBytes * 2) + keyBytes + varintBytes(valueBytes * 2) + valueBytes + 1;
  const record = varintBytes(recordBody * 2) + recordBody;
  const batch = 61 + record;
  const request =
    4 +
    2 +
    2 +
    4 +
    2 +
    Buffer.byteLength(clientId) +
    2 +
    2 +
    4 +
    4 +
    2 +
    Buffer.byteLength(topic) +
    4 +
    4 +
    4;
  return request + batch;
}
