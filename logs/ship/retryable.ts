/** Which failed store writes the shipper retries (the rest drop their batch, counted). */
import { LogStoreError } from '../mod.ts';

/**
 * A failed write worth retrying: the store away or failing (UNREACHABLE: VictoriaLogs' 5xx too),
 * a REJECTED that carries a 5xx, 408 or 429 `status` (another store's), our own timeout or close.
 * A plain REJECTED says the batch itself is wrong (a 4xx): retrying it would block the queue.
 */
export function retryable(err: unknown): boolean {
  if (err instanceof LogStoreError) {
    if (err.code === 'UNREACHABLE') return true;
    const status = (err as { status?: unknown }).status;
    return (
      err.code === 'REJECTED' &&
      typeof status === 'number' &&
      (status >= 500 || status === 408 || status === 429)
    );
  }
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}
