/**
 * An HTTP `Range` header (RFC 9110 §14) for one artifact: `bytes=a-b`, `bytes=a-`, `bytes=-n`
 * (the last n bytes). A header that is not one such range (several ranges, another unit, garbage)
 * is ignored — the whole artifact is sent, as the RFC allows; one that starts past the end is
 * 'unsatisfiable' (416).
 */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null) return undefined;
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined; // not a valid range: ignored
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(last === '' ? size - 1 : Number(last), size - 1) };
}
