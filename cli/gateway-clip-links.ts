/**
 * `devicehub gateway`'s alarm-clip links: the key they are signed with — a file every gateway of
 * the cluster shares (`--clip-url-secret-file`, default `./.devicehub/clip-url.key`, created with
 * 32 random bytes when missing, so the demo and a local cluster need nothing), the address clients
 * reach the gateway at (the API's links are paths without it; the web backend's are absolute, on
 * the listen address without it) and the links' lifetimes.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type ClipLinkOptions, MIN_CLIP_KEY_BYTES } from '../gateway/mod.ts';
import { intFlag } from './config.ts';

type Flags = Record<string, string | boolean | undefined>;

export const CLIP_LINK_FLAGS = {
  'public-url': { type: 'string' },
  'clip-url-secret-file': { type: 'string' },
  'clip-url-ttl': { type: 'string' },
  'clip-web-backend-url-ttl': { type: 'string' },
} as const;

export const clipLinksHelp = `  --public-url URL         the gateway's address as clients reach it (env DH_PUBLIC_URL): clip links
                           on it; without it the API's are paths and clip.ready's on http(s)://HOST:PORT
  --clip-url-secret-file F key (≥ 32 bytes, the same on every gateway) alarm clips' links are signed with
                           (env DH_CLIP_URL_SECRET_FILE; default ./.devicehub/clip-url.key, created if missing)
  --clip-url-ttl S         how long a clip link from the API works (env DH_CLIP_URL_TTL; 3600)
  --clip-web-backend-url-ttl S  how long a clip.ready event's links work (env DH_CLIP_WEB_BACKEND_URL_TTL; 86400)`;

/** The clip links' options; `defaultPublicUrl` is where this gateway listens. */
export function clipLinkOptions(values: Flags, defaultPublicUrl: string): ClipLinkOptions {
  const str = (flag: string, env: string) => (values[flag] as string | undefined) ?? process.env[env];
  const publicUrl = str('public-url', 'DH_PUBLIC_URL');
  if (publicUrl !== undefined && !/^https?:\/\/[^/]+/.test(publicUrl))
    throw new RangeError(
      `Invalid --public-url / DH_PUBLIC_URL: expected http(s)://host[:port], got "${publicUrl}"`,
    );
  const file = resolve(str('clip-url-secret-file', 'DH_CLIP_URL_SECRET_FILE') ?? '.devicehub/clip-url.key');
  return {
    // The API's links are paths unless the public address is given; events' links are always absolute.
    ...(publicUrl === undefined ? {} : { publicUrl }),
    eventBaseUrl: defaultPublicUrl,
    secretKey: readOrCreateKey(file),
    ttlSeconds: intFlag(values, { name: 'clip-url-ttl', env: 'DH_CLIP_URL_TTL', fallback: 3600 }),
    webBackendTtlSeconds: intFlag(values, {
      name: 'clip-web-backend-url-ttl',
      env: 'DH_CLIP_WEB_BACKEND_URL_TTL',
      fallback: 86_400,
    }),
  };
}

/** The key in `file`; a new random one written there (0600, never replacing one) when there is none. */
export function readOrCreateKey(file: string): Buffer {
  mkdirSync(dirname(file), { recursive: true });
  // Written whole beside it, then linked in: a gateway starting at the same time reads it whole or makes its own try fail.
  const part = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(part, randomBytes(MIN_CLIP_KEY_BYTES).toString('hex'), { mode: 0o600 });
  try {
    linkSync(part, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(part, { force: true });
  }
  const key = readFileSync(file);
  if (key.length < MIN_CLIP_KEY_BYTES)
    throw new RangeError(
      `--clip-url-secret-file / DH_CLIP_URL_SECRET_FILE: ${file} holds ${key.length} bytes, at least ${MIN_CLIP_KEY_BYTES} needed (e.g. openssl rand -hex 32 > ${file})`,
    );
  return key;
}
