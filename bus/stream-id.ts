/** Compares two Redis stream ids (`<ms>-<seq>`): negative, zero or positive like a comparator. */
export function compareStreamIds(a: string, b: string): number {
  if (a === b) return 0;
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  const msA = da < 0 ? a : a.slice(0, da);
  const msB = db < 0 ? b : b.slice(0, db);
  if (msA.length !== msB.length) return msA.length - msB.length;
  if (msA !== msB) return msA < msB ? -1 : 1;
  const seqA = da < 0 ? 0 : Number(a.slice(da + 1));
  const seqB = db < 0 ? 0 : Number(b.slice(db + 1));
  return seqA - seqB;
}
