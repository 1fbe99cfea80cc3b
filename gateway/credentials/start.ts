/** A gateway's edge credentials at start: the fleet CA, the sealing key, the CRL file, the grace-period pass. */
import type { Logger } from '../../actors/mod.ts';
import type { Bus } from '../../bus/mod.ts';
import type { BrokerIdentities } from '../../edge/broker/mod.ts';
import { loadFleetCa } from '../../edge/identity/mod.ts';
import type { EdgeKafkaCredentials } from '../../edge/kafka-auth/mod.ts';
import type { Db } from '../db/database.ts';
import type { FleetView } from '../fleet-view.ts';
import { startLeasedJob } from '../leased-job.ts';
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
  /** Between passes ending rotations' grace periods (default 30 s; one gateway runs them, EXPIRY_LEASE). */
  readonly expireMs?: number;
}

/** What the routes, the authenticator and the configuration read work with. */
export interface EdgeCredentials {
  readonly certificates: EdgeCertificates;
  readonly rotations: EdgeRotations;
}

/**
 * The lease of the grace-period pass: one gateway process runs it. Every process ran it, each
 * reading the registry for due rows and telling the broker each due edge's new password (a
 * dynamic-security command that rewrites the broker's whole file) before the update that
 * decided which of them ended the grace period.
 */
export const EXPIRY_LEASE = 'rotation-expiry';

export async function startCredentials(
  options: IdentityOptions,
  deps: {
    db: Db;
    bus: Pick<Bus, 'holdLease'>;
    /** This gateway's name in the expiry lease. */
    holder: string;
    view: FleetView;
    auth: { forget(edgeId?: string): void };
    broker?: BrokerIdentities;
    kafka?: EdgeKafkaCredentials;
    logger: Logger;
  },
): Promise<EdgeCredentials & AsyncDisposable> {
  const { db, bus, holder, view, auth, broker, kafka, logger } = deps;
  const ca = await loadFleetCa({ dir: options.dir, create: options.create ?? false });
  const sealing = await loadSealingKey({ dir: options.dir, create: options.create ?? false });
  const certificates = new EdgeCertificates({ db, ca, crlFile: options.crlFile, logger });
  const rotations = new EdgeRotations({ db, sealing, view, auth, broker, kafka, logger });
  await certificates.publishCrl();
  const expiry = startLeasedJob({
    bus,
    lease: EXPIRY_LEASE,
    holder,
    intervalMs: options.expireMs ?? 30_000,
    run: () => rotations.expire(),
    onError: (err) => logger.warn({ err }, 'rotation grace periods not checked; the next pass retries'),
  });
  return {
    certificates,
    rotations,
    async [Symbol.asyncDispose]() {
      await expiry.stop();
    },
  };
}
