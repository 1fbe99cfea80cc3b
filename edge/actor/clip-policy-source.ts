/**
 * The alarm-clip policy alone, as issue 16 read it: a view of the node's policy source
 * (policy-source.ts), which reads the clip and recognition policies together.
 */
import type { ClipPolicy } from '../protocol/mod.ts';
import { openPolicySource, type PolicySourceOptions } from './policy-source.ts';

export interface ClipPolicySource extends AsyncDisposable {
  /** The latest policy read. */
  readonly current: () => ClipPolicy;
  /** Reads it again now. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export type ClipPolicySourceOptions = PolicySourceOptions;

/** Reads the policy once, then every `intervalMs` until closed. */
export async function openClipPolicySource(options: ClipPolicySourceOptions): Promise<ClipPolicySource> {
  const source = await openPolicySource(options);
  return {
    current: source.clips,
    refresh: source.refresh,
    close: source.close,
    [Symbol.asyncDispose]: source.close,
  };
}
