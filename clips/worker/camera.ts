/**
 * The camera the operator configured for an edge, which wins over the one its birth named (the
 * request's): the edge configuration's `camera`
 * (`{"serial": "C12345678", "channel": 1}`), merged as the gateway serves it — global, then the
 * edge's group, then the edge itself (gateway/config-store.ts mergeConfig). Read from the
 * database once per job that needs it, not cached: an operator who fixes a camera's serial
 * expects the next retry to use it.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { type ClipCamera, isClipCamera } from '../../edge/protocol/mod.ts';
// The merge itself, not the gateway's surface (gateway/mod.ts loads the whole HTTP app).
import { mergeConfig } from '../../gateway/config-store.ts';
import type { Db } from '../../gateway/db/database.ts';
import { configDocuments, edges } from '../../gateway/db/schema.ts';

/** The camera the edge's configuration names, or undefined (none, or malformed: isClipCamera). */
export async function configuredCamera(db: Db, edgeId: string): Promise<ClipCamera | undefined> {
  const [edge] = await db.select({ groupId: edges.groupId }).from(edges).where(eq(edges.id, edgeId));
  const scopes = ['global', ...(edge?.groupId ? [`group:${edge.groupId}`] : []), `module:${edgeId}`];
  const docs = await db
    .select({ scope: configDocuments.scope, body: configDocuments.body })
    .from(configDocuments)
    .where(and(eq(configDocuments.kind, 'edge'), inArray(configDocuments.scope, scopes)));
  let body: Record<string, unknown> = {};
  for (const scope of scopes) {
    const doc = docs.find((d) => d.scope === scope);
    if (doc !== undefined) body = mergeConfig(body, doc.body);
  }
  const { camera } = body;
  return isClipCamera(camera) ? { serial: camera.serial, channel: camera.channel } : undefined;
}
