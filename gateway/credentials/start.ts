/** A gateway's edge credentials at start: the fleet CA, the sealing key, the CRL file, the grace-period pass. */
import type { Logger } from '../../actors/mod.ts';
import type { BrokerIdentities } from '../../edge/broker/mod.ts';
import { loadFleetCa } from '../../edge/identity/mod.ts';
import type { EdgeKafkaCredentials } from '../../edge/kafka-auth/mod.ts';
import type { Db } from '../db/database.ts';
import type { FleetView } from '../fleet-view.ts';
import { EdgeCertificates } from './certificates.ts';
import { EdgeRotations } from './rotation.ts';
import { loadSealingKey } from './sealing.ts';

export interface IdentityOptions {
  /** The folder with `ca.key`, `ca.crt` and `sealing.key` (the operator's files). */
  readonly dir: string;
  /** Generate what is missing there (the demo's first start). */
  readonly create?: boolean;
  /** Where the CRL is written whenever a certificate is revoked (the broker's `crlfile`). */
  readonly crlFile?: string;
  /** Between passes ending rotations' grace periods (default 30 s). */
  readonly expireMs?: number;
}

/** What the routes, the authenticator and the configuration read work with. */
export interface EdgeCredentials {
  readonly certificates: EdgeCertificates;
  readonly rotations: EdgeRotations;
}

export async function startCredentials(
  options: IdentityOptions,
  deps: {
    db: Db;
    view: FleetView;
    auth: { forget(edgeId?: string): void };
    broker?: BrokerIdentities;
    kafka?: EdgeKafkaCredentials;
    logger: Logger;
  },
): Promise<EdgeCredentials & AsyncDisposable> {
  const { db, view, auth, broker, kafka, logger } = deps;
  const ca = await loadFleetCa({ dir: options.dir, create: options.create ?? false });
  const sealing = await loadSealingKey({ dir: options.dir, create: options.create ?? false });
  const certificates = new EdgeCertificates({ db, ca, crlFile: options.crlFile, logger });
  const rotations = new EdgeRotations({ db, sealing, view, auth, broker, kafka, logger });
  await certificates.publishCrl();
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = rotations
      .expire()
      .catch((err: unknown) =>
        logger.warn({ err }, 'rotation grace periods not checked; the next pass retries'),
      );
  }, options.expireMs ?? 30_000);
  timer.unref();
  return {
    certificates,
    rotations,
    async [Symbol.asyncDispose]() {
      clearInterval(timer);
      await running;
    },
  };
}
