/**
 * PostgreSQL write-ahead log positions (`pg_lsn`, text `X/Y`: two 32-bit hex halves) as bigints,
 * and as 16 hex digits whose string order is their numeric order (the read-your-writes token
 * kept in Redis, compared in Lua: bus/lua/read-after.lua).
 */

/** `16/B374D848` → 0x16_B374D848n; throws a RangeError naming the value otherwise. */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (match === null) throw new RangeError(`Not a WAL position (X/Y in hex): ${JSON.stringify(text)}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** A position as 16 lower-case hex digits (sortable as text). */
export function lsnKey(lsn: bigint): string {
  if (lsn < 0n || lsn > 0xffff_ffff_ffff_ffffn) throw new RangeError(`WAL position out of range: ${lsn}`);
  return lsn.toString(16).padStart(16, '0');
}

/** The position of a 16-hex-digit key. */
export function lsnOfKey(key: string): bigint {
  if (!/^[0-9a-f]{16}$/.test(key)) throw new RangeError(`Not a WAL position key: ${JSON.stringify(key)}`);
  return BigInt(`0x${key}`);
}
