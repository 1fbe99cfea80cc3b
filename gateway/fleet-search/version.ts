/**
 * Comparing installed versions: dot-separated numeric parts compared as numbers (`2.10.0 > 2.9.1`,
 * a missing part counts as 0), a pre-release (`2.1.0-rc.1`) before its release, and parts that are
 * not numbers compared as text. Good for semantic versions and the `v1.2`-style tags devices report.
 */

/** Negative when `a` is older than `b`, 0 when the same, positive when newer. */
export function compareVersions(a: string, b: string): number {
  const [aCore = '', aPre] = splitPre(a);
  const [bCore = '', bPre] = splitPre(b);
  const byCore = compareParts(aCore.split('.'), bCore.split('.'));
  if (byCore !== 0) return byCore;
  if (aPre === undefined || bPre === undefined) return aPre === bPre ? 0 : aPre === undefined ? 1 : -1;
  return compareParts(aPre.split('.'), bPre.split('.'));
}

/** Whether `s` reads as a version (`1`, `1.2.3`, `v2.0-rc.1`). */
export function looksLikeVersion(s: string): boolean {
  return /^v?\d+(\.\d+)*(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(s);
}

function splitPre(v: string): [string, string | undefined] {
  const bare = v.replace(/^v/, '').replace(/\+.*$/, '');
  const dash = bare.indexOf('-');
  return dash < 0 ? [bare, undefined] : [bare.slice(0, dash), bare.slice(dash + 1)];
}

function compareParts(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? '0';
    const y = b[i] ?? '0';
    const nx = /^\d+$/.test(x) ? Number(x) : Number.NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : Number.NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx < ny ? -1 : 1;
    } else if (Number.isNaN(nx) !== Number.isNaN(ny)) {
      return Number.isNaN(nx) ? 1 : -1; // numbers sort before words (semver's rule)
    } else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
