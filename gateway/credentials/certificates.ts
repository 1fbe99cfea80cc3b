/**
 * An edge's certificates in the registry: issued by the fleet CA (from the edge's CSR, so its key
 * never leaves the device, or with a key made here and returned once), recorded by serial, revoked
 * at deregistration, and the CRL of every revoked certificate not yet expired — written to a file
 * the broker reads (`crlfile`) and served at `GET /v1/pki/crl.pem`.
 */
import { rename, writeFile } from 'node:fs/promises';
import { and, desc, eq, gt, isNotNull, isNull } from 'drizzle-orm';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import {
  createCrl,
  type EdgeCertificate,
  type FleetCa,
  IdentityError,
  issueEdgeCertificate,
} from '../../edge/identity/mod.ts';
import type { Db } from '../db/database.ts';
import { edgeCertificates, type RevokeReason } from '../db/schema.ts';

/** How long a CRL says it holds: the broker and `openssl verify` refuse it after that. */
const CRL_HOURS = 7 * 24;
/**
 * How long the CRL `GET /v1/pki/crl.pem` serves is kept (a revocation here makes it anew at
 * once; another gateway's shows within this). The route is public and each CRL is a database
 * read and an ECDSA signature: made per request, anyone could keep a gateway's CPU busy signing.
 */
const SERVED_CRL_MS = 5000;

export interface EdgeIdentityOptions {
  readonly db: Db;
  readonly ca: FleetCa;
  /** Where the CRL is written on every change (the broker's `crlfile`); none: served only. */
  readonly crlFile?: string;
  /** Days an edge certificate is valid (default 90). */
  readonly validityDays?: number;
  readonly logger?: Logger;
}

/** What /metrics shows: certificates issued, refused by reason, revoked. */
export interface CertificateStats {
  issued: number;
  revoked: number;
  readonly refused: Map<string, number>;
}

/** Refused requests are logged at most this often (a hostile edge cannot flood the log). */
const WARN_EVERY_MS = 10_000;

export class EdgeCertificates {
  readonly #o: EdgeIdentityOptions;
  readonly #log: Logger;
  /** The CRL the route serves, and until when (SERVED_CRL_MS); one making shared by every request. */
  #served: { pem: Promise<string>; until: number } | undefined;
  readonly stats: CertificateStats = { issued: 0, revoked: 0, refused: new Map() };
  #warnedAt = 0;
  #unwarned = 0;

  constructor(options: EdgeIdentityOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ component: 'edge-certificates' });
  }

  get ca(): FleetCa {
    return this.#o.ca;
  }

  /** Issues and records a certificate for `edgeId` (IdentityError for a bad CSR). */
  async issue(edgeId: string, csr?: string): Promise<EdgeCertificate> {
    const issued = await issueEdgeCertificate(this.#o.ca, {
      edgeId,
      ...(csr === undefined ? {} : { csr }),
      validityDays: this.#o.validityDays ?? 90,
    }).catch((error: unknown) => {
      if (error instanceof IdentityError) this.#refused(edgeId, error);
      throw error;
    });
    this.stats.issued++;
    await this.#o.db.insert(edgeCertificates).values({
      edgeId,
      serial: issued.serial,
      fingerprintSha256: issued.fingerprintSha256,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
    });
    this.#log.info(
      { edgeId, serial: issued.serial, notAfter: issued.notAfter.toISOString(), fromCsr: csr !== undefined },
      'edge certificate issued',
    );
    return issued;
  }

  /** Revokes every unrevoked certificate of the edge; rewrites the CRL. */
  async revoke(edgeId: string, reason: RevokeReason): Promise<number> {
    const rows = await this.#o.db
      .update(edgeCertificates)
      .set({ revokedAt: new Date(), revokeReason: reason })
      .where(and(eq(edgeCertificates.edgeId, edgeId), isNull(edgeCertificates.revokedAt)))
      .returning({ serial: edgeCertificates.serial });
    if (rows.length > 0) {
      this.#served = undefined;
      this.stats.revoked += rows.length;
      this.#log.info({ edgeId, count: rows.length, reason }, 'edge certificates revoked');
      await this.publishCrl();
    }
    return rows.length;
  }

  /** Counts a refused request by its reason; logs it with the reason, at most every WARN_EVERY_MS. */
  #refused(edgeId: string, error: IdentityError): void {
    this.stats.refused.set(error.code, (this.stats.refused.get(error.code) ?? 0) + 1);
    this.#unwarned++;
    const now = Date.now();
    if (now - this.#warnedAt < WARN_EVERY_MS) return;
    // The client's mistake, not the gateway's: info (the metric is what alerts).
    this.#log.info(
      { edgeId, reason: error.code, why: error.message, refusedSinceLastLine: this.#unwarned },
      'certificate request refused',
    );
    this.#warnedAt = now;
    this.#unwarned = 0;
  }

  /** The CRL (PEM) of every revoked certificate that has not expired yet. */
  async crl(): Promise<string> {
    const rows = await this.#o.db
      .select({
        serial: edgeCertificates.serial,
        revokedAt: edgeCertificates.revokedAt,
        reason: edgeCertificates.revokeReason,
      })
      .from(edgeCertificates)
      .where(and(isNotNull(edgeCertificates.revokedAt), gt(edgeCertificates.notAfter, new Date())));
    return createCrl(this.#o.ca, {
      nextUpdateHours: CRL_HOURS,
      revoked: rows.map((r) => ({
        serial: r.serial,
        revokedAt: r.revokedAt!,
        ...(r.reason === null ? {} : { reason: r.reason }),
      })),
    });
  }

  /** The CRL for `GET /v1/pki/crl.pem`: made at most every SERVED_CRL_MS, and anew after a revocation here. */
  servedCrl(): Promise<string> {
    const now = Date.now();
    if (this.#served === undefined || this.#served.until <= now) {
      const served = { pem: this.crl(), until: now + SERVED_CRL_MS };
      this.#served = served;
      // A failed making is not kept: the next request tries again.
      served.pem.catch(() => {
        if (this.#served === served) this.#served = undefined;
      });
    }
    return this.#served.pem;
  }

  /** Writes the CRL file (atomically: a reader never sees half a file), when there is one. */
  async publishCrl(): Promise<void> {
    const file = this.#o.crlFile;
    if (file === undefined) return;
    const temporary = `${file}.tmp-${process.pid}`;
    await writeFile(temporary, await this.crl(), { mode: 0o644 });
    await rename(temporary, file);
  }

  /** The edge's certificates, newest first. */
  list(edgeId: string) {
    return this.#o.db
      .select()
      .from(edgeCertificates)
      .where(eq(edgeCertificates.edgeId, edgeId))
      .orderBy(desc(edgeCertificates.issuedAt));
  }
}
