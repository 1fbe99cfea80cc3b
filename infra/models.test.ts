/**
 * The provisioned recognition assets: the model file is the one infra/models.ts pins, the dynamic
 * batch patch (infra/model-dynbatch.ts) is deterministic, and the photographs match their checksums.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { dynamicBatch } from './model-dynbatch.ts';
import { MODEL_SHA256, MODEL_SOURCE_SHA256, modelFile, testPhotos, visionAssetsMissing } from './models.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const missing =
  visionAssetsMissing() ?? (process.env.DEVICEHUB_MODEL_FILE ? 'DEVICEHUB_MODEL_FILE is set' : undefined);

describe('recognition assets', { skip: missing }, () => {
  test('the model file is the pinned one; patching its source again gives the same bytes, and patching those changes nothing', (t) => {
    const model = readFileSync(modelFile().path);
    assert.equal(sha256(model), MODEL_SHA256);
    const sourcePath = join(dirname(modelFile().path), 'source.onnx');
    if (!existsSync(sourcePath) && process.env.CI !== 'true') {
      t.skip(`${sourcePath} is missing (provisioned before it was kept)`);
      return;
    }
    const source = readFileSync(sourcePath);
    assert.equal(sha256(source), MODEL_SOURCE_SHA256);
    const once = dynamicBatch(source);
    assert.equal(once.patched.length, 3, once.patched.join('; '));
    assert.equal(sha256(once.bytes), MODEL_SHA256);
    assert.equal(sha256(dynamicBatch(source).bytes), MODEL_SHA256, 'deterministic');
    assert.deepEqual(dynamicBatch(model).patched, [], 'no Reshape with a leading 1 is left');
  });

  test('the photographs match infra/photos.sha256', () => {
    const sums = new Map(
      readFileSync(new URL('./photos.sha256', import.meta.url), 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/).reverse() as [string, string]),
    );
    const photos = testPhotos();
    const files = [photos.person, photos.motorcycle, ...photos.none];
    assert.equal(files.length, sums.size);
    for (const file of files) assert.equal(sha256(readFileSync(file)), sums.get(basename(file)), file);
  });
});
