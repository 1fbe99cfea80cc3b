/**
 * The compact format's `update` kind (code 8, QoS 1): an edge's state on one target of an update.
 * Body `{q, t, r: rollout, g: target path, n: name, v: version, s: state index (UPDATE_STATES),
 * p?: progress %, e?: reason}`. Decoded to the canonical `UpdateStatePayload`, every field checked:
 * a malformed one is a `DecodeError`, so the link dead-letters it like any malformed message.
 */
import { describe, errorText, intIn, name } from './checks.ts';
import { DecodeError } from './errors.ts';
import { MAX_NAME_CHARS } from './limits.ts';
import type { HubMessage } from './normalized.ts';
import { UPDATE_STATES, type UpdateState, type UpdateStatePayload } from './payloads.ts';

/** What the agent sends: the canonical payload without what the transport and header carry. */
export type UpdateReport = Omit<UpdateStatePayload, 'seq' | 'boot' | 'ts' | 'via'>;

const PROGRESS = { min: 0, max: 100 } as const;
/** A target path `<kind>/<name>/<version>/<fileName>`: four non-empty parts. */
const TARGET_PATH = /^[^/]+\/[^/]+\/[^/]+\/[^/]+$/;

export function encodeUpdateBody(u: UpdateReport): Record<string, unknown> {
  const body: Record<string, unknown> = {
    r: u.rollout,
    g: u.target,
    n: u.name,
    v: u.version,
    s: UPDATE_STATES.indexOf(u.state),
  };
  if (u.progress !== undefined) body.p = Math.max(0, Math.min(100, Math.round(u.progress)));
  if (u.reason !== undefined) body.e = u.reason;
  return body;
}

export function decodeUpdate(b: Record<string, unknown>, head: { seq: number; ts: number }): HubMessage[] {
  const state: UpdateState | undefined = UPDATE_STATES[intIn(b.s, { min: 0, max: 255 }, 's (state)')];
  if (state === undefined)
    throw new DecodeError(
      'INVALID_FIELD',
      `s (state) must be 0..${UPDATE_STATES.length - 1} (${UPDATE_STATES.join(', ')}), got ${describe(b.s)}`,
    );
  const target = name(b.g, 'g (target path)', MAX_NAME_CHARS, true);
  if (!TARGET_PATH.test(target))
    throw new DecodeError(
      'INVALID_FIELD',
      `g (target path) must be <kind>/<name>/<version>/<fileName>, got ${describe(target)}`,
    );
  if (b.p !== undefined && state !== 'downloading')
    throw new DecodeError('INVALID_FIELD', `p (progress) comes with downloading only, not ${state}`);
  const payload: UpdateStatePayload = {
    rollout: name(b.r, 'r (rollout)', MAX_NAME_CHARS, true),
    target,
    name: name(b.n, 'n (name)', MAX_NAME_CHARS, true),
    version: name(b.v, 'v (version)', MAX_NAME_CHARS, true),
    state,
    ...(b.p !== undefined ? { progress: intIn(b.p, PROGRESS, 'p (progress %)') } : {}),
    ...(b.e !== undefined ? { reason: errorText(b.e, state) } : {}),
    seq: head.seq,
    ts: head.ts,
  };
  return [{ method: 'updateState', payload }];
}
