import { randomBytes } from 'node:crypto';

/**
 * A random certificate serial (RFC 5280 §4.1.2.2: positive, at most 20 octets; CA/B Forum: at
 * least 64 random bits): 16 octets in hex, the high bit clear so the integer is positive and the
 * next bit set so its DER encoding needs no leading zero octet.
 */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}
