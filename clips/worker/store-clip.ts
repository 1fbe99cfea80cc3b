/**
 * A checked clip into the object store: the video, its poster and its metadata (meta.json:
 * alarm, edge, camera, window, bytes, SHA-256, duration, the Ezviz task) under the clip's keys
 * (objects/keys.ts). The keys are the clip id's, so storing again — a retry after a crash between
 * here and the row's update — replaces the same objects with the same bytes: never a second clip.
 * meta.json goes last: whoever sees it sees the video and poster it describes.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ClipCamera, ClipRequest } from '../../edge/protocol/mod.ts';
import { clipMetaKey, clipPosterKey, clipVideoKey, type ObjectStore } from '../../objects/mod.ts';

export interface ClipMeta {
  readonly clipId: string;
  readonly edgeId: string;
  readonly alarm: string;
  /** The alarm's start and end (ms; end null: cut at the kind's longest clip). */
  readonly since: number;
  readonly end: number | null;
  readonly camera: ClipCamera;
  /** What was asked of Ezviz (ms). */
  readonly window: { readonly start: number; readonly end: number };
  readonly bytes: number;
  readonly sha256: string;
  readonly durationMs: number;
  readonly video: { readonly width: number; readonly height: number; readonly codec: string };
  readonly task: { readonly provider: 'ezviz'; readonly taskId: string; readonly fileId: string };
  readonly storedAt: string;
}

export interface ClipKeys {
  readonly videoKey: string;
  readonly posterKey: string;
  readonly metaKey: string;
}

export async function storeClip(
  store: ObjectStore,
  o: {
    readonly request: ClipRequest;
    readonly camera: ClipCamera;
    readonly taskId: string;
    readonly videoPath: string;
    readonly posterPath: string;
    readonly bytes: number;
    readonly sha256: string;
    readonly probe: {
      readonly durationMs: number;
      readonly width: number;
      readonly height: number;
      readonly codec: string;
    };
    readonly signal?: AbortSignal;
  },
): Promise<ClipKeys & { readonly meta: ClipMeta }> {
  const { request: r, signal } = o;
  const keys: ClipKeys = {
    videoKey: clipVideoKey(r.clipId),
    posterKey: clipPosterKey(r.clipId),
    metaKey: clipMetaKey(r.clipId),
  };
  await store.put(keys.videoKey, createReadStream(o.videoPath), { contentType: 'video/mp4', signal });
  await store.put(keys.posterKey, createReadStream(o.posterPath), { contentType: 'image/jpeg', signal });
  const meta: ClipMeta = {
    clipId: r.clipId,
    edgeId: r.edgeId,
    alarm: r.alarm,
    since: r.since,
    end: r.end,
    camera: o.camera,
    window: { start: r.window.start, end: r.window.end },
    bytes: o.bytes,
    sha256: o.sha256,
    durationMs: o.probe.durationMs,
    video: { width: o.probe.width, height: o.probe.height, codec: o.probe.codec },
    task: { provider: 'ezviz', taskId: o.taskId, fileId: r.clipId },
    storedAt: new Date().toISOString(),
  };
  const body = Buffer.from(`${JSON.stringify(meta, null, 2)}\n`);
  await store.put(keys.metaKey, Readable.from([body]), { contentType: 'application/json', signal });
  return { ...keys, meta };
}
