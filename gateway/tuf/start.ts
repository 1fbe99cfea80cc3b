/**
 * A gateway's TUF side: the keys from their folder (created for the demo), the repository over
 * the database, the upkeep that re-signs the timestamp, and new artifacts signed as targets.
 */
import type { Logger } from '../../actors/mod.ts';
import { type Bus, toError } from '../../bus/mod.ts';
import type { Db } from '../db/database.ts';
import { type ArtifactRegistrations, artifactTarget } from './artifact-targets.ts';
import { type CreateTufKeysOptions, createTufKeys, loadTufKeys } from './keys.ts';
import { TufRepository } from './repository.ts';
import { startTufUpkeep, upkeepInterval } from './upkeep.ts';

export interface TufOptions {
  /** The keys folder: roles.json and `<role>-<name>.pem` ed25519 PKCS8 keys (gateway/tuf/README.md). */
  readonly keysDir: string;
  /** Write what is missing there (`--tuf-create`; the demo's `.devicehub/tuf`). */
  readonly create?: boolean;
  /** Thresholds and expiries of a roles.json written by `create`. */
  readonly roles?: CreateTufKeysOptions['roles'];
  /** Between upkeep ticks (default: an eighth of the timestamp's lifetime, ≤ 60 s); 0: no upkeep. */
  readonly upkeepEveryMs?: number;
  /** The clock (ms), for tests. */
  readonly now?: () => number;
}

export interface StartedTuf extends AsyncDisposable {
  readonly repository: TufRepository;
}

export async function startTuf(
  options: TufOptions,
  deps: { db: Db; bus: Bus; holder: string; log: Logger; artifacts?: ArtifactRegistrations },
): Promise<StartedTuf> {
  const keys = options.create
    ? await createTufKeys(options.keysDir, options.roles === undefined ? {} : { roles: options.roles })
    : await loadTufKeys(options.keysDir);
  const repository = await TufRepository.open(deps.db, keys, {
    log: deps.log,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const { artifacts, log } = deps;
  artifacts?.onRegistered(async (artifact) => {
    await repository.addTargets([artifactTarget(artifact)]);
  });
  // Artifacts registered while no gateway could sign them (a crash between the row and the hook).
  const catchUp =
    artifacts?.list === undefined
      ? undefined
      : async () => {
          const all = (await artifacts.list?.()) ?? [];
          if (all.length > 0) await repository.addTargets(all.map(artifactTarget));
        };
  await catchUp?.().catch((err: unknown) =>
    log.error({ err: toError(err), component: 'tuf' }, 'tuf: signing the artifacts catalog failed'),
  );
  const everyMs = options.upkeepEveryMs ?? upkeepInterval(keys);
  const upkeep =
    everyMs === 0
      ? undefined
      : startTufUpkeep(repository, {
          bus: deps.bus,
          holder: deps.holder,
          log,
          everyMs,
          ...(catchUp === undefined ? {} : { catchUp }),
        });
  return {
    repository,
    [Symbol.asyncDispose]: async () => {
      await upkeep?.stop();
    },
  };
}
