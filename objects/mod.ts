/**
 * The object store: one interface (`ObjectStore`) over the filesystem and S3-compatible services
 * (Aliyun OSS, S3Proxy, MinIO, AWS S3), opened from a URL (`openObjectStore`), with every key name
 * in one module (`keys.ts`). Artifacts of the updates live here; alarm clips (`clips/<id>/…`) and
 * recognition frames (`frames/<edge>/<event>/<i>.jpg`). docs/decisions/022-object-store.md.
 */
export type { ObjectStoreErrorCode } from './errors.ts';
export { ObjectNotFoundError, ObjectStoreError, RangeNotSatisfiableError } from './errors.ts';
export { FsObjectStore } from './fs-store.ts';
export {
  ARTIFACTS_PREFIX,
  artifactKey,
  CLIPS_PREFIX,
  checkKey,
  clipMetaKey,
  clipPosterKey,
  clipVideoKey,
  FRAMES_PREFIX,
  frameKey,
  framesPrefix,
  UPLOADS_PREFIX,
  uploadKey,
} from './keys.ts';
export type { ByteRange, ObjectBody, ObjectInfo, ObjectRead, ObjectStore } from './object-store.ts';
export { type OpenObjectStoreOptions, openObjectStore } from './open-store.ts';
export { S3ObjectStore, type S3StoreOptions } from './s3-store.ts';
