/**
 * Every object key the system writes, built here and nowhere else (like Redis's in bus/keys.ts),
 * and the one check of what a key may look like: `/`-separated segments of `[A-Za-z0-9._-]`, none
 * empty or starting with a dot (so the filesystem store's own `.tmp`/`.meta` folders and `..` can
 * never be named), at most 512 characters.
 */
import { ObjectStoreError } from './errors.ts';

/** Artifacts, content-addressed: `artifacts/sha256/<64 hex>`. */
export const ARTIFACTS_PREFIX = 'artifacts/sha256/';
/** Uploads in progress: moved to their artifact key once their hash is known, removed on refusal. */
export const UPLOADS_PREFIX = 'uploads/';
/** Alarm clips: `clips/<clipId>/video.mp4`, `poster.jpg`, `meta.json` (clips/worker). */
export const CLIPS_PREFIX = 'clips/';
/** Recognition frames: `frames/<edgeId>/<eventId>/<index>.jpg` (gateway/frames). */
export const FRAMES_PREFIX = 'frames/';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const MAX_KEY_LENGTH = 512;

export function artifactKey(sha256: string): string {
  if (!SHA256_HEX.test(sha256))
    throw new ObjectStoreError('INVALID_KEY', `An artifact key needs 64 lowercase hex digits, got ${sha256}`);
  return `${ARTIFACTS_PREFIX}${sha256}`;
}

/** An upload's temporary key; `id` is the upload's own (a random UUID). */
export function uploadKey(id: string): string {
  return checkKey(`${UPLOADS_PREFIX}${id}`);
}

const CLIP_ID = /^[0-9a-z]{1,64}$/;

/** The folder of one alarm clip; `clipId` is the request's (edge/protocol clipIdOf: 32 of [0-9a-f]). */
function clipFolder(clipId: string): string {
  if (!CLIP_ID.test(clipId))
    throw new ObjectStoreError(
      'INVALID_KEY',
      `A clip id is 1..64 of [0-9a-z], got ${JSON.stringify(clipId)}`,
    );
  return `${CLIPS_PREFIX}${clipId}/`;
}

/** An alarm clip's video (H.264 MP4 as Ezviz gave it). */
export function clipVideoKey(clipId: string): string {
  return `${clipFolder(clipId)}video.mp4`;
}

/** An alarm clip's poster frame (JPEG). */
export function clipPosterKey(clipId: string): string {
  return `${clipFolder(clipId)}poster.jpg`;
}

/** An alarm clip's metadata (JSON: alarm, edge, camera, window, bytes, SHA-256, duration, task). */
export function clipMetaKey(clipId: string): string {
  return `${clipFolder(clipId)}meta.json`;
}

const EVENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const EDGE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
/** An edge id as a key segment: itself when it is one and does not start with `_`, else `_` + hex. */
const PLAIN_EDGE_SEGMENT = /^[A-Za-z0-9-][A-Za-z0-9._-]*$/;

/**
 * A vision event's candidate frame (JPEG): `frames/<edgeId>/<eventId>/<index>.jpg`, index 0..3
 * (edge/protocol/vision.ts: an event names 1–4 frames). An edge id that is not a key segment as it
 * is (a `:`, a leading `.`) — or that starts with `_` — is written `_<hex of its UTF-8>`, so two ids
 * never share a folder.
 */
export function frameKey(edgeId: string, eventId: string, index: number): string {
  if (!EVENT_ID.test(eventId))
    throw new ObjectStoreError(
      'INVALID_KEY',
      `An event id is 1..64 of [A-Za-z0-9_-], got ${JSON.stringify(eventId)}`,
    );
  if (!Number.isInteger(index) || index < 0 || index > 3)
    throw new ObjectStoreError('INVALID_KEY', `A frame index is 0..3, got ${index}`);
  return checkKey(`${framesPrefix(edgeId)}${eventId}/${index}.jpg`);
}

/** The folder of one edge's frames (`frames/<edge segment>/`), e.g. to list or remove them. */
export function framesPrefix(edgeId: string): string {
  if (!EDGE_ID.test(edgeId))
    throw new ObjectStoreError(
      'INVALID_KEY',
      `An edge id is 1..128 of [A-Za-z0-9_.:-], got ${JSON.stringify(edgeId)}`,
    );
  const segment = PLAIN_EDGE_SEGMENT.test(edgeId) ? edgeId : `_${Buffer.from(edgeId).toString('hex')}`;
  return `${FRAMES_PREFIX}${segment}/`;
}

/** `key` when it is a valid object key; an INVALID_KEY error naming it otherwise. */
export function checkKey(key: string): string {
  if (!isKey(key))
    throw new ObjectStoreError(
      'INVALID_KEY',
      `An object key is 1..${MAX_KEY_LENGTH} characters of /-separated [A-Za-z0-9._-] segments, none empty or starting with a dot; got ${JSON.stringify(key)}`,
    );
  return key;
}

/** A list prefix: what a key may start with (empty: everything); its folders are valid key segments. */
export function checkPrefix(prefix: string): string {
  const slash = prefix.lastIndexOf('/');
  const tail = prefix.slice(slash + 1);
  if ((slash >= 0 && !isKey(prefix.slice(0, slash))) || !/^[A-Za-z0-9._-]*$/.test(tail))
    throw new ObjectStoreError(
      'INVALID_KEY',
      `A list prefix has key characters only, got ${JSON.stringify(prefix)}`,
    );
  return prefix;
}

function isKey(key: string): boolean {
  return key.length > 0 && key.length <= MAX_KEY_LENGTH && key.split('/').every((s) => SEGMENT.test(s));
}
