/**
 * What the hub takes from an edge, in one place: every size, depth, integer range and string
 * length the links and decoders check, before anything is decoded further or encoded for the
 * mailbox. `docs/protocol.md` ("Bad input") states the same numbers and what an edge gets for
 * breaking each. Whatever passes these checks fits a mailbox entry (MAX_PAYLOAD_BYTES, 64 KiB).
 */

/** Largest device message, in bytes, checked before any decoding (legacy status ≈ 560 B; compact ≈ 10–60 B). */
export const MAX_DEVICE_MESSAGE_BYTES = 16 * 1024;

/** A sequence number (compact `q`, legacy `seqNo`): an unsigned 32-bit counter since boot. */
export const SEQ_RANGE = { min: 0, max: 2 ** 32 - 1 } as const;

/** A device timestamp (compact `t`, legacy `timestamp`): ms since the epoch, up to 2100-01-01. */
export const TIMESTAMP_RANGE = { min: 0, max: 4_102_444_800_000 } as const;

/** Every other integer field (floors, counters, codes, mm, dBm, MB): what int32 or uint32 holds. */
export const INT_RANGE = { min: -(2 ** 31), max: 2 ** 32 - 1 } as const;

/** Every non-integer measurement (legacy speed, temperature, current, percentages): finite, ±1e9. */
export const NUMBER_RANGE = { min: -1e9, max: 1e9 } as const;

/** How long an edge may be silent when all is well (birth `sl`), seconds. */
export const SILENCE_RANGE = { min: 1, max: 86_400 } as const;

/**
 * Longest name (boot id, model, firmware, codes, command id), in UTF-16 code units. Names carry no
 * control characters, no lone surrogates, and are not JavaScript object built-ins (`__proto__`).
 */
export const MAX_NAME_CHARS = 256;

/** Longest alarm name (compact `a`, legacy `faultType`). */
export const MAX_ALARM_CHARS = 64;

/** Longest command error message kept; a longer one is cut, not refused. */
export const MAX_ERROR_CHARS = 256;

/**
 * A command result (compact `r`, legacy `result`) is a JSON value nested at most this deep (a
 * scalar is depth 0, `[1]` depth 1)...
 */
export const MAX_RESULT_DEPTH = 16;

/** ...and at most this long once encoded as JSON (UTF-8 bytes). */
export const MAX_RESULT_JSON_BYTES = 32 * 1024;

/** What a `log` message (logs.ts) may be. */
export const LOG_LIMITS = {
  /** Compressed, with its header: the device message limit every kind has. */
  maxMessageBytes: MAX_DEVICE_MESSAGE_BYTES,
  maxLines: 1000,
  /** The lines' MessagePack before compression: more is a zip bomb, refused while inflating. */
  maxInflatedBytes: 256 * 1024,
  /** A line's bytes: the encoder cuts a longer one and marks it `…[cut N bytes]`. */
  maxLineBytes: 8192,
  maxSourceChars: 64,
} as const;
