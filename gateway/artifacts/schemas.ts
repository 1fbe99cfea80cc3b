/** The artifacts API's shapes: the record, the upload's query and headers, the routes' parameters. */
import { z } from '@hono/zod-openapi';
import { ARTIFACT_KINDS } from '../db/schema.ts';

/** Names, versions and hardware ids: what a TUF target path (`<kind>/<name>/<version>/<fileName>`) can hold. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$/;
const SHA256 = /^[0-9a-f]{64}$/;

export const ArtifactSchema = z
  .object({
    sha256: z
      .string()
      .openapi({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' }),
    kind: z.enum(ARTIFACT_KINDS),
    name: z.string().openapi({ example: 'elenet' }),
    version: z.string().openapi({ example: '2.4.1' }),
    hardware: z
      .array(z.string())
      .openapi({ description: 'Hardware it fits (empty: any)', example: ['rv1126'] }),
    size: z.number().int().openapi({ description: 'Bytes' }),
    fileName: z.string().openapi({ example: 'elenet-2.4.1.tar.zst' }),
    createdAt: z.string().openapi({ description: 'ISO 8601' }),
  })
  .openapi('Artifact');

const name = (what: string, example: string) =>
  z
    .string()
    .regex(NAME, `${what}: 1–128 characters of [A-Za-z0-9._+-], starting with a letter or digit`)
    .openapi({ example });

const hardware = z
  .string()
  .optional()
  .openapi({
    description: 'Comma-separated hardware ids the artifact fits (none: any)',
    example: 'rv1126,rv1109',
  })
  .transform((s, ctx) => {
    const ids = s === undefined || s === '' ? [] : s.split(',');
    for (const id of ids)
      if (!NAME.test(id)) {
        ctx.addIssue({
          code: 'custom',
          message: `hardware id ${JSON.stringify(id)}: [A-Za-z0-9._+-], 1–128`,
        });
        return z.NEVER;
      }
    return [...new Set(ids)];
  });

const fileName = z
  .string()
  .regex(FILE_NAME, 'fileName: 1–255 characters of [A-Za-z0-9._+-], starting with a letter or digit')
  .optional()
  .openapi({
    description: 'The file name agents save it as (default `<name>-<version>`)',
    example: 'elenet-2.4.1.tar.zst',
  });

export const KindParam = z.enum(ARTIFACT_KINDS);

/** POST /v1/artifacts?kind=&name=&version=&hardware=&fileName= */
export const UploadQuery = z.object({
  kind: KindParam,
  name: name('name', 'elenet'),
  version: name('version', '2.4.1'),
  hardware,
  fileName,
});

/** PUT /v1/artifacts/{kind}/{name}/{version}?hardware=&fileName= */
export const UploadParams = z.object({
  kind: KindParam.openapi({ param: { name: 'kind', in: 'path' } }),
  name: name('name', 'elenet').openapi({ param: { name: 'name', in: 'path' } }),
  version: name('version', '2.4.1').openapi({ param: { name: 'version', in: 'path' } }),
});
export const UploadOptionsQuery = z.object({ hardware, fileName });

export const UploadHeaders = z.object({
  'x-content-sha256': z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'x-content-sha256: the body’s SHA-256 as 64 hex digits')
    .optional()
    .openapi({ description: 'The SHA-256 the body must have (else 400 HASH_MISMATCH)' }),
});

export const ListQuery = z.object({
  kind: KindParam.optional(),
  name: name('name', 'elenet').optional(),
});

export const Sha256Param = z.object({
  sha256: z
    .string()
    .regex(SHA256, 'sha256: 64 lowercase hex digits')
    .openapi({
      param: { name: 'sha256', in: 'path' },
      example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    }),
});

/** The raw body of an upload, streamed (any content type). */
export const UPLOAD_BODY = {
  required: true,
  content: {
    'application/octet-stream': { schema: z.string().openapi({ type: 'string', format: 'binary' }) },
  },
} as const;
