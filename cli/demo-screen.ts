/**
 * The demo's wall screen (decision 027): the demo bundle uploaded as a `screen-bundle` artifact
 * (the same upload on a later start answers the record it made), a screen `SCREEN-1` with hardware
 * `screen`, and the screens' configuration naming the bundle, so the page the table links to shows
 * it at once; a rollout of a newer bundle to `hardware:screen` moves it. The screen's secret is
 * kept in ./.devicehub/screen-secret (a new one when it no longer works), like the admin key.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Authenticator, type Db, type Gateway } from '../gateway/mod.ts';
import { DEMO_BUNDLE_FILE, DEMO_BUNDLE_NAME, demoBundle } from '../gateway/screens/mod.ts';

export const DEMO_SCREEN = 'SCREEN-1';
const VERSION = '1.0.0';

/** The screen's page (`<url>/screens/SCREEN-1#secret=…`), or why there is none. */
export async function startDemoScreen(o: {
  gateway: Pick<Gateway, 'app'>;
  database: Db;
  url: string;
  adminKey: string;
}): Promise<{ page: string } | { skipped: string }> {
  const call = async (method: string, path: string, body?: string | Uint8Array, type = 'application/json') =>
    await o.gateway.app.request(path, {
      method,
      headers: { authorization: `Bearer ${o.adminKey}`, 'content-type': type },
      ...(body === undefined ? {} : { body }),
    });
  const query = `kind=screen-bundle&name=${DEMO_BUNDLE_NAME}&version=${VERSION}&hardware=screen&fileName=${DEMO_BUNDLE_FILE}`;
  const uploaded = await call(
    'POST',
    `/v1/artifacts?${query}`,
    demoBundle(VERSION),
    'application/octet-stream',
  );
  if (uploaded.status === 503) return { skipped: 'the gateway has no object store' };
  if (uploaded.status !== 200 && uploaded.status !== 201)
    throw new Error(`Cannot upload the demo screen bundle: ${uploaded.status} ${await uploaded.text()}`);
  const secret = await screenSecret(o, call);
  const config = { bundle: { name: DEMO_BUNDLE_NAME, version: VERSION }, title: 'DeviceHub demo' };
  const put = await call('PUT', '/v1/config/screen/global', JSON.stringify(config));
  if (put.status !== 200)
    throw new Error(`Cannot configure the demo screen: ${put.status} ${await put.text()}`);
  return { page: `${o.url}/screens/${DEMO_SCREEN}#secret=${secret}` };
}

/** The kept secret while it works; else the screen registered (or its secret rotated) and kept. */
async function screenSecret(
  o: { database: Db },
  call: (method: string, path: string, body?: string | Uint8Array) => Promise<Response>,
): Promise<string> {
  const file = resolve('.devicehub/screen-secret');
  const kept = existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  const basic = (s: string) => `Basic ${Buffer.from(`${DEMO_SCREEN}:${s}`).toString('base64')}`;
  if (kept !== undefined && (await new Authenticator(o.database).principal(basic(kept))) !== undefined)
    return kept;
  let res = await call(
    'POST',
    '/v1/edges',
    JSON.stringify({ id: DEMO_SCREEN, labels: { hardware: 'screen' } }),
  );
  if (res.status === 409) res = await call('POST', `/v1/edges/${DEMO_SCREEN}/secret`);
  if (res.status !== 200 && res.status !== 201)
    throw new Error(`Cannot register the demo screen: ${res.status} ${await res.text()}`);
  const { secret } = (await res.json()) as { secret: string };
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
