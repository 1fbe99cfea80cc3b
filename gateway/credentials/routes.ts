/**
 * Edge credentials over HTTP:
 * - `POST /v1/edges/{id}/credentials/rotate` (admin): a new secret (and, for an edge with
 *   certificates, a request to renew them) that the edge picks up through its configuration; the
 *   old secret stops when the edge confirms the new one, or at the end of the grace period.
 * - `POST /v1/pki/edges/{id}/certificate`: a certificate for the edge — the edge itself with its
 *   own credentials and a CSR (renewal, its key never leaves it), or an operator (with a CSR, or
 *   without: the key is made here and returned once).
 * - `GET /v1/edges/{id}/certificates` (operator): the edge's certificates, revoked ones included.
 * - `GET /v1/pki/ca.pem` and `GET /v1/pki/crl.pem`: public, as CA certificates and CRLs are.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { IdentityError } from '../../edge/identity/mod.ts';
import { audit } from '../audit.ts';
import { type AuthEnv, actorOf, hasScope, requireAuth } from '../auth.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { isRegistered } from '../register-edges.ts';
import { AUTH_ERRORS, BODY_ERRORS, EdgeIdParam, ErrorSchema, json, jsonBody } from '../routes/schemas.ts';
import { GRACE_SECONDS } from './rotation.ts';
import type { EdgeCredentials } from './start.ts';

const NO_CA = { 503: json(ErrorSchema, 'This gateway has no fleet CA configured') } as const;
const MAX_CSR_CHARS = 16 * 1024;

const CertificateSchema = z
  .object({
    edgeId: z.string(),
    serial: z.string(),
    notBefore: z.string(),
    notAfter: z.string(),
    fingerprintSha256: z.string(),
    certificatePem: z.string(),
    caPem: z
      .string()
      .openapi({ description: 'The fleet CA: what the edge trusts the broker and gateway by' }),
    privateKeyPem: z.string().optional().openapi({ description: 'Only when no CSR was given: shown once' }),
  })
  .openapi('EdgeCertificate');

const rotate = createRoute({
  method: 'post',
  path: '/v1/edges/{id}/credentials/rotate',
  summary: 'Rotate an edge’s credentials: the edge picks the new ones up through its configuration',
  request: {
    params: EdgeIdParam,
    body: {
      required: false,
      content: {
        'application/json': {
          schema: z.object({
            graceSeconds: z.number().int().min(GRACE_SECONDS.min).max(GRACE_SECONDS.max).optional(),
          }),
        },
      },
    },
  },
  responses: {
    202: json(
      z.object({ id: z.string(), credentialsVersion: z.number(), graceUntil: z.string() }),
      'Rotation started; the old secret works until the edge confirms the new one or graceUntil',
    ),
    404: json(ErrorSchema, 'No such edge'),
    409: json(ErrorSchema, 'Rotated by someone else meanwhile'),
    ...NO_CA,
    ...AUTH_ERRORS,
  },
});

const issue = createRoute({
  method: 'post',
  path: '/v1/pki/edges/{id}/certificate',
  summary: 'Issue a client certificate to an edge (the edge itself renews with a CSR)',
  request: {
    params: EdgeIdParam,
    body: jsonBody(
      z.object({
        csr: z
          .string()
          .max(MAX_CSR_CHARS)
          .optional()
          .openapi({ description: 'PKCS#10 PEM naming the edge (CN)' }),
      }),
    ),
  },
  responses: {
    201: json(CertificateSchema, 'Issued'),
    404: json(ErrorSchema, 'No such edge'),
    ...NO_CA,
    ...BODY_ERRORS,
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/edges/{id}/certificates',
  summary: 'The certificates issued to an edge, newest first',
  request: { params: EdgeIdParam },
  responses: {
    200: json(
      z.object({
        certificates: z.array(
          z.object({
            serial: z.string(),
            notBefore: z.string(),
            notAfter: z.string(),
            issuedAt: z.string(),
            revokedAt: z.string().nullable(),
            revokeReason: z.string().nullable(),
          }),
        ),
      }),
      'The certificates',
    ),
    ...NO_CA,
    ...AUTH_ERRORS,
  },
});

const pem = (what: string) => ({
  description: what,
  content: { 'application/x-pem-file': { schema: z.string() } },
});
const caRoute = createRoute({
  method: 'get',
  path: '/v1/pki/ca.pem',
  summary: 'The fleet CA certificate (public, as CA certificates are)',
  security: [],
  responses: { 200: pem('The CA certificate'), ...NO_CA },
});
const crlRoute = createRoute({
  method: 'get',
  path: '/v1/pki/crl.pem',
  summary: 'The fleet CRL: every revoked edge certificate not yet expired (public)',
  security: [],
  responses: { 200: pem('The CRL'), ...NO_CA },
});

/** The gateway's credentials, or a 503 that says how to give it a fleet CA. */
function identityOf(deps: GatewayDeps): EdgeCredentials {
  if (deps.credentials === undefined)
    throw new ApiError('UNAVAILABLE', 'This gateway has no fleet CA: start it with --identity-dir');
  return deps.credentials;
}

export function credentialRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  app.route('/', rotationRoutes(deps));
  app.route('/', pkiRoutes(deps));
  return app;
}

function rotationRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  const identity = () => identityOf(deps);
  app.post('/v1/edges/:id/credentials/rotate', requireAuth(deps.auth, 'admin'));
  app.openapi(rotate, async (c) => {
    const { id } = c.req.valid('param');
    const body = (c.req.valid('json') as { graceSeconds?: number } | undefined) ?? {};
    const rotation = await identity().rotations.rotate(id, body.graceSeconds ?? GRACE_SECONDS.default);
    await audit(deps.db, {
      actor: actorOf(c.get('principal')),
      action: 'edge.rotate-credentials',
      target: `edge/${id}`,
      details: { graceUntil: rotation.graceUntil.toISOString() },
    });
    return c.json({ ...rotation, graceUntil: rotation.graceUntil.toISOString() }, 202);
  });
  return app;
}

function pkiRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  const identity = () => identityOf(deps);
  app.post('/v1/pki/edges/:id/certificate', requireAuth(deps.auth, 'operator', { edges: true }));
  app.get('/v1/edges/:id/certificates', requireAuth(deps.auth, 'operator'));

  app.openapi(issue, async (c) => {
    const { id } = c.req.valid('param');
    const { csr } = c.req.valid('json');
    const principal = c.get('principal');
    if (principal.kind === 'edge' && principal.id !== id)
      throw new ApiError('FORBIDDEN', `Edge ${principal.id} may only renew its own certificate`);
    if (principal.kind === 'edge' && csr === undefined)
      throw new ApiError('INVALID_REQUEST', 'An edge renews with a CSR: its key stays on the edge');
    if (!hasScope(principal, 'operator') && principal.kind !== 'edge')
      throw new ApiError('FORBIDDEN', 'This needs scope operator');
    const { certificates } = identity();
    if (!(await isRegistered(deps.db, id))) throw new ApiError('NOT_FOUND', `No edge ${id}`);
    const issued = await certificates.issue(id, csr).catch((error: unknown) => {
      if (error instanceof IdentityError)
        throw new ApiError('INVALID_REQUEST', `No certificate: ${error.message}`, { identity: error.code });
      throw error;
    });
    await audit(deps.db, {
      actor: actorOf(principal),
      action: 'edge.certificate',
      target: `edge/${id}`,
      details: { serial: issued.serial, fromCsr: csr !== undefined },
    });
    return c.json(
      {
        edgeId: id,
        serial: issued.serial,
        notBefore: issued.notBefore.toISOString(),
        notAfter: issued.notAfter.toISOString(),
        fingerprintSha256: issued.fingerprintSha256,
        certificatePem: issued.certificatePem,
        caPem: certificates.ca.certificatePem,
        ...(issued.privateKeyPem === undefined ? {} : { privateKeyPem: issued.privateKeyPem }),
      },
      201,
    );
  });

  app.openapi(list, async (c) => {
    const rows = await identity().certificates.list(c.req.valid('param').id);
    const iso = (d: Date | null) => (d === null ? null : d.toISOString());
    return c.json(
      {
        certificates: rows.map((r) => ({
          serial: r.serial,
          notBefore: r.notBefore.toISOString(),
          notAfter: r.notAfter.toISOString(),
          issuedAt: r.issuedAt.toISOString(),
          revokedAt: iso(r.revokedAt),
          revokeReason: r.revokeReason,
        })),
      },
      200,
    );
  });

  app.openapi(caRoute, (c) => {
    c.header('content-type', 'application/x-pem-file');
    return c.body(identity().certificates.ca.certificatePem, 200);
  });
  app.openapi(crlRoute, async (c) => {
    c.header('content-type', 'application/x-pem-file');
    c.header('cache-control', 'max-age=60');
    return c.body(await identity().certificates.servedCrl(), 200);
  });
  return app;
}
