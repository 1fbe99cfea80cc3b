/**
 * The `update` command's args, read and checked on the edge before anything is downloaded: the
 * hub's `UpdateCommandArgs` (edge/protocol/payloads.ts). A malformed one is refused as BAD_UPDATE
 * in the command's result, naming the field.
 */
import type { UpdateCommandArgs, UpdateTarget } from '../../protocol/mod.ts';
import { UpdateError } from './errors.ts';

const NAME = /^[A-Za-z0-9._+-]{1,128}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const DAY_MS = 86_400_000;

function bad(field: string, problem: string, value: unknown): never {
  const shown = JSON.stringify(value)?.slice(0, 60) ?? String(value);
  throw new UpdateError('BAD_UPDATE', `update: ${field} ${problem}, got ${shown}`);
}

function target(raw: unknown, i: number): UpdateTarget {
  if (typeof raw !== 'object' || raw === null) bad(`targets[${i}]`, 'must be an object', raw);
  const t = raw as Record<string, unknown>;
  for (const f of ['name', 'version', 'kind'] as const)
    if (typeof t[f] !== 'string' || !NAME.test(t[f] as string))
      bad(`targets[${i}].${f}`, 'must be 1..128 of [A-Za-z0-9._+-]', t[f]);
  const fileName = typeof t.path === 'string' ? t.path.split('/') : [];
  if (
    fileName.length !== 4 ||
    fileName[0] !== t.kind ||
    fileName[1] !== t.name ||
    fileName[2] !== t.version ||
    !NAME.test(fileName[3]!)
  )
    bad(`targets[${i}].path`, 'must be <kind>/<name>/<version>/<fileName> of this target', t.path);
  if (typeof t.sha256 !== 'string' || !SHA256.test(t.sha256))
    bad(`targets[${i}].sha256`, 'must be 64 lowercase hex digits', t.sha256);
  if (!Number.isSafeInteger(t.length) || (t.length as number) < 0)
    bad(`targets[${i}].length`, 'must be a byte count', t.length);
  return {
    path: t.path as string,
    name: t.name as string,
    version: t.version as string,
    kind: t.kind as string,
    sha256: t.sha256 as string,
    length: t.length as number,
  };
}

export function parseUpdateArgs(args: Readonly<Record<string, unknown>>): UpdateCommandArgs {
  const { rollout, targets, spreadMs, healthDeadlineMs, rollback } = args;
  if (typeof rollout !== 'string' || !NAME.test(rollout))
    bad('rollout', 'must be 1..128 of [A-Za-z0-9._+-]', rollout);
  if (!Array.isArray(targets) || targets.length === 0 || targets.length > 16)
    bad('targets', 'must be 1..16 targets', targets);
  const parsed = targets.map(target);
  if (new Set(parsed.map((t) => t.name)).size !== parsed.length)
    bad(
      'targets',
      'must name each package once',
      parsed.map((t) => t.name),
    );
  if (!Number.isSafeInteger(spreadMs) || (spreadMs as number) < 0 || (spreadMs as number) > DAY_MS)
    bad('spreadMs', 'must be 0..86400000', spreadMs);
  if (
    !Number.isSafeInteger(healthDeadlineMs) ||
    (healthDeadlineMs as number) < 1 ||
    (healthDeadlineMs as number) > DAY_MS
  )
    bad('healthDeadlineMs', 'must be 1..86400000', healthDeadlineMs);
  if (rollback !== undefined && typeof rollback !== 'boolean') bad('rollback', 'must be a boolean', rollback);
  return {
    rollout,
    targets: parsed,
    spreadMs: spreadMs as number,
    healthDeadlineMs: healthDeadlineMs as number,
    ...(rollback === undefined ? {} : { rollback }),
  };
}
