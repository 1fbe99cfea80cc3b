/**
 * tuf-js's refusals as UpdateError codes. tuf-js wraps the errors of snapshot and targets in a
 * RuntimeError whose message embeds the original (`Unable to load snapshot metadata error Error:
 * …`), so the class is read where it survives and the message where it does not — the messages
 * matched here are tuf-js 5's (tuf-refusals.test.ts pins each one).
 */
import { isDiskFull, UpdateError, type UpdateErrorCode } from './errors.ts';
import { DOWNLOAD_FAILED_MARK } from './tuf-fetcher.ts';

const RULES: readonly [UpdateErrorCode, RegExp][] = [
  // Freeze: a role past its expiry (root, timestamp, snapshot or targets).
  ['TUF_EXPIRED', /^ExpiredMetadataError$|is expired/],
  // Rollback: a version older than the one trusted (timestamp, snapshot's meta, root).
  ['TUF_ROLLBACK', /is less than current version|Expected version \d+, got \d+/],
  // Mix-and-match: snapshot not the one timestamp names, targets not the one snapshot names.
  [
    'TUF_MIXED',
    /doesn't match timestamp|does not match snapshot version|Missing (file )?\S+ in (new )?snapshot/,
  ],
  // Signatures: too few valid ones for the threshold, or a file not matching its signed hash/length.
  [
    'TUF_SIGNATURE',
    /^(UnsignedMetadataError|LengthOrHashMismatchError)$|was signed by \d+\/\d+ keys|failed to verify|Expected (length|hash)/,
  ],
  // Transport: unreachable, an HTTP error status, a file longer than allowed.
  [
    'DOWNLOAD_FAILED',
    new RegExp(`${DOWNLOAD_FAILED_MARK}|^DownloadHTTPError$|HTTP \\d{3}|Max length reached`),
  ],
];

/** The UpdateError for what tuf-js (or its fetcher) threw while `what` (e.g. "refresh"). */
export function toUpdateError(error: unknown, what: string): UpdateError {
  if (error instanceof UpdateError) return error;
  if (isDiskFull(error))
    return new UpdateError('DISK_FULL', `TUF ${what}: ${String(error)}`, { cause: error });
  const name = (error as { constructor?: { name?: string } } | null)?.constructor?.name ?? '';
  const message = error instanceof Error ? error.message : String(error);
  for (const [code, pattern] of RULES)
    if (pattern.test(name) || pattern.test(message))
      return new UpdateError(code, `TUF ${what}: ${message}`, { cause: error });
  // Anything else (JSON that is not signed metadata, a wrong type) is not trusted either.
  return new UpdateError('TUF_SIGNATURE', `TUF ${what}: metadata not valid: ${message}`, { cause: error });
}
