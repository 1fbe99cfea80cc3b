/**
 * The exact q-quantile of `values` by nearest rank (the ⌈q·n⌉-th smallest), unrounded; 0 for none.
 * The logs, clips and recognition reports share it; http-client.ts's `percentiles()` is a different
 * method (the ⌊q·n⌋-th index, rounded to 0.1) whose numbers the other benches report, so it stays.
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The middle value, the mean of the two middle ones for an even count; unrounded; 0 for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
