/**
 * The tunnel API's contract: the shapes (`Tunnel`, the open request) and the four routes
 * (open, list, get, close) the OpenAPI document is generated from.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  AUTH_ERRORS,
  BODY_ERRORS,
  EdgeIdParam,
  ErrorSchema,
  json,
  jsonBody,
  safeString,
} from '../routes/schemas.ts';

export const TUNNEL_SERVICES = ['ssh', 'camera', 'console'] as const;

const TunnelSchema = z
  .object({
    id: z.string(),
    edgeId: z.string(),
    state: z.enum(['requested', 'open', 'closed', 'expired', 'failed']),
    reason: z.string().nullable(),
    services: z.array(
      z.object({
        name: z.string(),
        remotePort: z.number().nullable(),
        host: z.string().optional().openapi({ description: 'Multiplexed mode: the name to CONNECT to' }),
        connect: z.string().nullable().openapi({ example: 'ssh -p 20001 root@tunnels.example.com' }),
      }),
    ),
    requestedBy: z.string(),
    requestedAt: z.string(),
    expiresAt: z.string(),
    openedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    secret: z
      .string()
      .optional()
      .openapi({
        description:
          'Multiplexed mode, only in the answer to whoever opened it: the tunnel’s secret, sent to the ' +
          'HTTP CONNECT port as Proxy-Authorization (user: the tunnel id); `devicehub connect` reads it ' +
          'from DH_TUNNEL_SECRET. Not stored: ask again (same services, same caller) to see it again.',
      }),
  })
  .openapi('Tunnel');

const OpenRequest = z.object({
  services: z
    .array(z.enum(TUNNEL_SERVICES))
    .min(1)
    .max(TUNNEL_SERVICES.length)
    .refine((s) => new Set(s).size === s.length, 'services must not repeat')
    .openapi({ example: ['ssh', 'camera'], uniqueItems: true }),
  ttlSeconds: z.number().int().min(1).optional().openapi({ description: 'Default 1800 (30 minutes)' }),
});

const TunnelParams = EdgeIdParam.extend({
  tunnelId: safeString.regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'a tunnel id: 1–64 characters of [A-Za-z0-9_.:-]'),
});

export const openRoute = createRoute({
  method: 'post',
  path: '/v1/edges/{id}/tunnels',
  summary: 'Open a remote-access tunnel (or get the open one for these services)',
  request: { params: EdgeIdParam, body: jsonBody(OpenRequest) },
  responses: {
    202: json(TunnelSchema, 'Requested: the edge is asked to open it'),
    200: json(TunnelSchema, 'Already open (or being opened) for these services'),
    404: json(ErrorSchema, 'No such edge'),
    409: json(ErrorSchema, 'Some of the services are in another open tunnel'),
    503: json(ErrorSchema, 'No free remote ports'),
    ...BODY_ERRORS,
  },
});

export const listRoute = createRoute({
  method: 'get',
  path: '/v1/edges/{id}/tunnels',
  summary: 'The edge’s recent tunnels, newest first',
  request: { params: EdgeIdParam },
  responses: { 200: json(z.object({ tunnels: z.array(TunnelSchema) }), 'Tunnels'), ...AUTH_ERRORS },
});

export const getRoute = createRoute({
  method: 'get',
  path: '/v1/edges/{id}/tunnels/{tunnelId}',
  summary: 'A tunnel: its state and how to connect',
  request: { params: TunnelParams },
  responses: {
    200: json(TunnelSchema, 'The tunnel'),
    404: json(ErrorSchema, 'No such tunnel'),
    ...AUTH_ERRORS,
  },
});

export const closeRoute = createRoute({
  method: 'delete',
  path: '/v1/edges/{id}/tunnels/{tunnelId}',
  summary: 'Close a tunnel (its ports return to the pool once the edge has been told)',
  request: { params: TunnelParams },
  responses: { 202: json(TunnelSchema, 'Closing'), 404: json(ErrorSchema, 'No such tunnel'), ...AUTH_ERRORS },
});
