/**
 * The detector on the real model (YOLOv8n COCO, provisioned) and real photographs (scikit-image's),
 * each sent as an edge would send it: JPEG-encoded. One session for the file.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { Logger } from '../../actors/mod.ts';
import { modelFile, testPhotos, visionAssetsMissing } from '../../infra/mod.ts';
import {
  type Detection,
  type Detector,
  DetectorError,
  type ImageProblem,
  type ImageProblemCode,
  isImageProblem,
  openDetector,
} from './mod.ts';

const missing = visionAssetsMissing();

/** Whether onnxruntime-node has its CUDA provider library (a GPU server that ran its CUDA install). */
const ortBin = join(
  dirname(createRequire(import.meta.url).resolve('onnxruntime-node')),
  '..',
  'bin',
  'napi-v6',
  'linux',
  'x64',
);
const hasCudaProvider = existsSync(join(ortBin, 'libonnxruntime_providers_cuda.so'));

function recordingLogger(lines: { level: string; msg?: string; obj: object }[]): Logger {
  const logger: Logger = {
    debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
    child: () => logger,
  };
  return logger;
}

const jpeg = async (path: string) => sharp(readFileSync(path)).jpeg({ quality: 90 }).toBuffer();

function detections(result: Detection[] | ImageProblem | undefined): Detection[] {
  assert.ok(
    result !== undefined && !isImageProblem(result),
    `expected detections, got ${JSON.stringify(result)}`,
  );
  return result;
}

function best(result: Detection[] | ImageProblem | undefined, label: string): Detection | undefined {
  return detections(result)
    .filter((d) => d.label === label)
    .sort((a, b) => b.score - a.score)[0];
}

/** A 16×16 JPEG whose frame header (SOF0/SOF2) claims width × height: a huge image in 300 bytes. */
async function jpegClaiming(width: number, height: number): Promise<Buffer> {
  const b = Buffer.from(
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#888' } })
      .jpeg()
      .toBuffer(),
  );
  for (let i = 2; i < b.length - 9; ) {
    assert.equal(b[i], 0xff, 'JPEG marker');
    const marker = b[i + 1];
    if (marker === 0xc0 || marker === 0xc2) {
      b.writeUInt16BE(height, i + 5);
      b.writeUInt16BE(width, i + 7);
      return b;
    }
    i += 2 + b.readUInt16BE(i + 2);
  }
  throw new Error('no SOF marker in the 16×16 JPEG');
}

describe('openDetector on YOLOv8n and real photographs', { skip: missing }, () => {
  let detector: Detector;
  const logs: { level: string; msg?: string; obj: object }[] = [];
  let photos: { person: Buffer; motorcycle: Buffer; none: Buffer[] };

  before(async () => {
    const model = modelFile();
    detector = await openDetector({
      modelPath: model.path,
      name: model.name,
      version: model.version,
      providers: ['cuda', 'cpu'],
      logger: recordingLogger(logs),
    });
    const files = testPhotos();
    photos = {
      person: await jpeg(files.person),
      motorcycle: await jpeg(files.motorcycle),
      none: await Promise.all(files.none.map(jpeg)),
    };
  });
  after(async () => {
    await detector?.close();
  });

  test('providers cuda then cpu: the one this machine has is chosen, a failing one logged and skipped', () => {
    assert.equal(detector.name, 'yolov8n-coco');
    assert.equal(detector.version, '8.0.175+dynbatch');
    if (hasCudaProvider) {
      assert.equal(detector.provider, 'cuda');
      return;
    }
    assert.equal(detector.provider, 'cpu');
    assert.deepEqual(
      detector.skippedProviders.map((s) => s.provider),
      ['cuda'],
    );
    assert.match(detector.skippedProviders[0]?.reason ?? '', /cuda/i);
    assert.ok(logs.some((l) => l.level === 'warn' && (l.obj as { provider?: string }).provider === 'cuda'));
    assert.ok(logs.some((l) => l.level === 'info' && (l.obj as { provider?: string }).provider === 'cpu'));
    assert.ok(detector.maxBatch > 1, 'the provisioned model has a dynamic batch axis');
  });

  test('the astronaut is a person ≥ 0.5, boxed where she is (left two thirds, full height)', async () => {
    const [result] = await detector.detect([photos.person]);
    const person = best(result, 'person');
    assert.ok(person && person.score >= 0.5, `person: ${JSON.stringify(result)}`);
    const [x, y, w, h] = person.box;
    assert.ok(x < 0.1 && y < 0.1 && w > 0.55 && w < 0.85 && h > 0.85, `box ${person.box}`);
    for (const d of detections(result)) {
      const [bx, by, bw, bh] = d.box;
      assert.ok(
        bx >= 0 && by >= 0 && bx + bw <= 1.0001 && by + bh <= 1.0001,
        `box inside the frame: ${d.box}`,
      );
    }
  });

  test('the motorcycle is a motorcycle ≥ 0.5; an EXIF-rotated copy gives the same box', async () => {
    const rotated = await sharp(readFileSync(testPhotos().motorcycle))
      .rotate(270)
      .jpeg({ quality: 90 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    assert.equal((await sharp(rotated).metadata()).orientation, 6);
    const [upright, turned] = await detector.detect([photos.motorcycle, rotated]);
    const a = best(upright, 'motorcycle');
    const b = best(turned, 'motorcycle');
    assert.ok(a && a.score >= 0.5, `motorcycle: ${JSON.stringify(upright)}`);
    assert.ok(b && b.score >= 0.5, `rotated motorcycle: ${JSON.stringify(turned)}`);
    for (let i = 0; i < 4; i++)
      assert.ok(Math.abs((a.box[i] as number) - (b.box[i] as number)) < 0.03, `${a.box} vs ${b.box}`);
  });

  test('PNG frames, 1-channel gray, 16-bit gray and with alpha, still show the person', async () => {
    const src = readFileSync(testPhotos().person);
    const variants = {
      gray: await sharp(src).toColourspace('b-w').png().toBuffer(),
      gray16: await sharp(src).toColourspace('grey16').png().toBuffer(),
      alpha: await sharp(src).ensureAlpha(0.5).png().toBuffer(),
    };
    assert.equal((await sharp(variants.gray).metadata()).channels, 1);
    assert.equal((await sharp(variants.gray16).metadata()).depth, 'ushort');
    assert.equal((await sharp(variants.alpha).metadata()).channels, 4);
    const results = await detector.detect(Object.values(variants));
    Object.keys(variants).forEach((what, i) => {
      const person = best(results[i], 'person');
      assert.ok(person && person.score >= 0.5, `${what}: ${JSON.stringify(results[i])}`);
    });
  });

  test('the rocket and the coffee cup have no person, bicycle or motorcycle ≥ 0.25', async () => {
    const results = await detector.detect(photos.none, { minScore: 0.25 });
    assert.equal(results.length, 2);
    for (const result of results) {
      const found = detections(result).filter((d) => ['person', 'bicycle', 'motorcycle'].includes(d.label));
      assert.deepEqual(found, []);
    }
    assert.ok(best(results[1], 'cup'), 'the coffee photograph has its cup');
  });

  test('a batch of 4 gives the same detections as one by one', async () => {
    const images = [photos.person, photos.motorcycle, ...photos.none];
    const before = detector.stats();
    const batched = await detector.detect(images);
    const afterBatch = detector.stats();
    assert.equal(afterBatch.batches - before.batches, 1, 'one run for the four');
    assert.equal(afterBatch.batchedImages - before.batchedImages, 4);
    const single = [];
    for (const image of images) single.push(...(await detector.detect([image])));
    assert.equal(single.length, 4);
    for (let i = 0; i < 4; i++) {
      const a = detections(batched[i]);
      const b = detections(single[i]);
      assert.deepEqual(
        a.map((d) => d.label),
        b.map((d) => d.label),
      );
      a.forEach((d, k) => {
        assert.ok(Math.abs(d.score - (b[k]?.score ?? -1)) < 1e-3, `${d.score} vs ${b[k]?.score}`);
      });
    }
  });

  test('bad frames are ImageProblems with a reason, next to a good frame in the same batch', async () => {
    const tiny = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } })
      .jpeg()
      .toBuffer();
    const cases: [string, Uint8Array, ImageProblemCode, RegExp][] = [
      ['not an image', Buffer.from('hello, I am not a JPEG'), 'not_an_image', /not a JPEG or PNG/],
      ['empty', new Uint8Array(0), 'not_an_image', /empty/],
      [
        'truncated at 60%',
        photos.person.subarray(0, Math.floor(photos.person.length * 0.6)),
        'truncated',
        /cannot be decoded/,
      ],
      ['header only (200 B)', photos.person.subarray(0, 200), 'truncated', /JPEG/],
      ['1×1', tiny, 'too_small', /1×1 pixels is under 32×32/],
      [
        '20,000×20,000',
        await jpegClaiming(20_000, 20_000),
        'too_large',
        /20000×20000 pixels is over the limit/,
      ],
    ];
    const results = await detector.detect([...cases.map((c) => c[1]), photos.motorcycle]);
    cases.forEach(([what, , problem, reason], i) => {
      const r = results[i];
      assert.ok(r !== undefined && isImageProblem(r), `${what}: ${JSON.stringify(r)}`);
      assert.equal(r.problem, problem, `${what}: ${r.reason}`);
      assert.match(r.reason, reason, what);
    });
    const moto = best(results[cases.length], 'motorcycle');
    assert.ok(moto && moto.score >= 0.5, 'the good frame is still looked at');
    assert.ok(detector.stats().problems >= cases.length);
  });

  test('options and lifecycle: bad minScore, missing model, no provider, closed', async () => {
    await assert.rejects(detector.detect([photos.person], { minScore: 2 }), (err: unknown) => {
      assert.ok(err instanceof DetectorError && err.code === 'BAD_OPTIONS');
      return true;
    });
    const base = { name: 'yolov8n-coco', version: 'x' };
    await assert.rejects(openDetector({ ...base, modelPath: '/nonexistent/model.onnx' }), (err: unknown) => {
      assert.ok(err instanceof DetectorError && err.code === 'BAD_MODEL', String(err));
      return true;
    });
    if (!hasCudaProvider)
      await assert.rejects(
        openDetector({ ...base, modelPath: modelFile().path, providers: ['cuda'] }),
        (err: unknown) => {
          assert.ok(err instanceof DetectorError && err.code === 'NO_PROVIDER', String(err));
          assert.match(err.message, /cuda: /);
          return true;
        },
      );
    const other = await openDetector({ ...base, modelPath: modelFile().path, providers: ['cpu'] });
    assert.equal(other.provider, 'cpu');
    await other.close();
    await assert.rejects(other.detect([photos.person]), (err: unknown) => {
      assert.ok(err instanceof DetectorError && err.code === 'CLOSED');
      return true;
    });
  });
});
