/**
 * One log line as the store keeps it: valid UTF-8 on one line, at most `maxBytes` bytes.
 * Control characters (C0, DEL, C1, U+2028/2029) and bytes that are not valid UTF-8 are escaped
 * (`\xNN` per byte; `\u0085` style for C1 and the line separators), so binary garbage stays
 * readable and cannot forge a second line; a line over the limit is cut at a character boundary
 * and marked `…[cut N bytes]` (N: the input bytes left out), the mark included in the limit.
 */

export const DEFAULT_MAX_LINE_BYTES = 8192;
/** Below this a limit could not hold the mark; smaller limits are raised to it. */
const MIN_MAX_BYTES = 64;

const encoder = new TextEncoder();
const PLAIN = /^[\x20-\x7e\t]*$/;

function hex(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}

/** Length of a valid UTF-8 sequence at `i` (1–4), or 0 when the byte there starts none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i] as number;
  if (b0 < 0x80) return 1;
  const cont = (k: number): boolean => {
    const b = bytes[i + k];
    return b !== undefined && (b & 0xc0) === 0x80;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const b1 = bytes[i + 1] as number;
    if (!cont(1) || !cont(2)) return 0;
    if (b0 === 0xe0 && b1 < 0xa0) return 0; // overlong
    if (b0 === 0xed && b1 >= 0xa0) return 0; // surrogate
    return 3;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const b1 = bytes[i + 1] as number;
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (b0 === 0xf0 && b1 < 0x90) return 0; // overlong
    if (b0 === 0xf4 && b1 >= 0x90) return 0; // past U+10FFFF
    return 4;
  }
  return 0;
}

function decodeSequence(bytes: Uint8Array, i: number, length: number): number {
  const b0 = bytes[i] as number;
  if (length === 1) return b0;
  let cp = b0 & (length === 2 ? 0x1f : length === 3 ? 0x0f : 0x07);
  for (let k = 1; k < length; k++) cp = (cp << 6) | ((bytes[i + k] as number) & 0x3f);
  return cp;
}

/** The escaped text of the character at `i` and how many output bytes it takes. */
function escapeCodePoint(cp: number): string | undefined {
  if (cp < 0x20 && cp !== 0x09) return hex(cp);
  if (cp === 0x7f) return hex(cp);
  if ((cp >= 0x80 && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029) {
    return `\\u${cp.toString(16).padStart(4, '0')}`;
  }
  return undefined;
}

/**
 * `raw` as one valid, bounded line (see the module comment). Strings with lone surrogates have
 * them replaced by U+FFFD (they have no UTF-8 form).
 */
export function normalizeLine(raw: string | Uint8Array, maxBytes = DEFAULT_MAX_LINE_BYTES): string {
  const limit = Math.max(Math.floor(maxBytes), MIN_MAX_BYTES);
  if (typeof raw === 'string' && raw.length <= limit && PLAIN.test(raw)) return raw;
  const bytes = typeof raw === 'string' ? encoder.encode(raw) : raw;
  // When the line is cut, the text before the mark must leave room for it.
  const budgetIfCut = limit - Buffer.byteLength(`…[cut ${bytes.length} bytes]`);
  let out = '';
  let outBytes = 0;
  let cutText = 0; // out.length and input offset at the last point that fits budgetIfCut
  let cutInput = 0;
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    let piece: string;
    let pieceBytes: number;
    if (length === 0) {
      piece = hex(bytes[i] as number);
      pieceBytes = 4;
    } else {
      const cp = decodeSequence(bytes, i, length);
      const escaped = escapeCodePoint(cp);
      piece = escaped ?? String.fromCodePoint(cp);
      pieceBytes = escaped === undefined ? length : escaped.length;
    }
    outBytes += pieceBytes;
    if (outBytes > limit) break;
    out += piece;
    i += length === 0 ? 1 : length;
    if (outBytes <= budgetIfCut) {
      cutText = out.length;
      cutInput = i;
    }
  }
  if (i >= bytes.length) return out;
  return `${out.slice(0, cutText)}…[cut ${bytes.length - cutInput} bytes]`;
}
