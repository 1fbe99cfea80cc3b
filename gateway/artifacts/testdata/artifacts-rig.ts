/**
 * For the artifacts tests: a gateway in-process over PGlite, a real Redis and the filesystem object
 * store with a 1 MiB bound, an admin and an operator key, `send` for raw uploads; and the helpers
 * to hash, list the store and stream a body that may break off.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { TestRedis } from '../../../infra/test-redis.ts';
import { FsObjectStore, type ObjectStore } from '../../../objects/mod.ts';
import { createApiKey } from '../../auth.ts';
import { openDatabase } from '../../db/database.ts';
import { artifacts as artifactsTable } from '../../db/schema.ts';
import { createGateway } from '../../gateway.ts';
import type { ArtifactRecord } from '../mod.ts';

/** The upload bound of the rig's gateway: 1 MiB. */
export const MAX = 1024 * 1024;
let n = 0;

/** A gateway over PGlite, the given Redis and a filesystem store under `root`, its registrations recorded. */
export async function openArtifactsRig(t: TestRedis, root: string) {
  const database = await openDatabase();
  const objects = await FsObjectStore.open(join(root, `s${++n}`));
  const gateway = await createGateway({
    database,
    bus: t.bus(t.keyspace(), t.connect()),
    objects,
    maxArtifactBytes: MAX,
  });
  const registered: ArtifactRecord[] = [];
  gateway.artifacts?.onRegistered(async (a) => {
    registered.push(a);
  });
  const admin = (await createApiKey(database.db, { name: 'admin', scope: 'admin' })).key;
  const operator = (await createApiKey(database.db, { name: 'operator', scope: 'operator' })).key;
  const send = async (
    method: string,
    path: string,
    body: ReadableStream<Uint8Array> | Uint8Array | undefined,
    headers: Record<string, string> = {},
  ): Promise<Response> =>
    await gateway.app.request(path, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...headers },
      body,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  const rows = () => database.db.select().from(artifactsTable);
  return {
    gateway,
    database,
    objects,
    registered,
    admin,
    operator,
    send,
    rows,
    [Symbol.asyncDispose]: async () => {
      await gateway.stop();
      await database.close();
    },
  };
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Every key in the store, sorted. */
export async function keys(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list('')) out.push(info.key);
  return out.sort();
}

/** A streamed body of `parts`, then (optionally) an error: a client that goes away. */
export function stream(parts: Uint8Array[], fail?: Error): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      const part = parts[i++];
      if (part !== undefined) controller.enqueue(part);
      else if (fail !== undefined) controller.error(fail);
      else controller.close();
    },
  });
}
