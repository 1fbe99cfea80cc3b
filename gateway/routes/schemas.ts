/** Request and response shapes the routes share (and the OpenAPI document shows). */
import { z } from '@hono/zod-openapi';

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'INVALID_REQUEST' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

export const EdgeIdParam = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'an edge id: 1–128 characters of [A-Za-z0-9_.:-]')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'E-000123' }),
});

/** The error responses every authenticated route may give. */
export const AUTH_ERRORS = {
  400: { description: 'The request is not valid', content: { 'application/json': { schema: ErrorSchema } } },
  401: { description: 'No valid credentials', content: { 'application/json': { schema: ErrorSchema } } },
  403: {
    description: 'The credentials lack the scope',
    content: { 'application/json': { schema: ErrorSchema } },
  },
} as const;

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
