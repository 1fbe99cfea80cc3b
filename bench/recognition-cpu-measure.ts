/**
 * CPU time per image of the detector, all-in (decode, letterbox, inference, NMS), at batch 1 and 4,
 * on the test photographs JPEG-encoded as an edge sends them; CPU time from process.cpuUsage (all
 * threads), so that a loaded machine inflates the wall times but not these. A smoke-sized run
 * (60 images) for docs/decisions/032-recognition-model.md, not a benchmark:
 *
 *   node --import tsx bench/recognition-cpu-measure.ts [cpu|cuda]
 */
import { readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { modelFile, testPhotos } from '../infra/mod.ts';
import { openDetector, type Provider } from '../vision/mod.ts';

export async function measureDetectorCpu(provider: Provider): Promise<Record<string, unknown>> {
  const model = modelFile();
  let cpu = process.cpuUsage();
  let wall = performance.now();
  const detector = await openDetector({
    modelPath: model.path,
    name: model.name,
    version: model.version,
    providers: [provider],
  });
  const loadCpu = process.cpuUsage(cpu);
  const result: Record<string, unknown> = {
    model: `${model.name}@${model.version}`,
    modelBytes: statSync(model.path).size,
    provider: detector.provider,
    loadWallMs: Math.round(performance.now() - wall),
    loadCpuMs: Math.round((loadCpu.user + loadCpu.system) / 1000),
  };
  const photos = testPhotos();
  const jpegs = await Promise.all(
    [photos.person, photos.motorcycle, ...photos.none].map((f) =>
      sharp(readFileSync(f)).jpeg({ quality: 90 }).toBuffer(),
    ),
  );
  await detector.detect(jpegs.slice(0, 1)); // warm-up
  result.rssAfterLoadMB = Math.round(process.memoryUsage().rss / 1e6);
  for (const [batch, rounds] of [
    [1, 12],
    [4, 3],
  ] as const) {
    const before = detector.stats();
    cpu = process.cpuUsage();
    wall = performance.now();
    for (let r = 0; r < rounds; r++)
      for (let i = 0; i < jpegs.length; i += batch) await detector.detect(jpegs.slice(i, i + batch));
    const used = process.cpuUsage(cpu);
    const after = detector.stats();
    const n = rounds * jpegs.length;
    result[`batch${batch}`] = {
      images: n,
      cpuMsPerImage: +((used.user + used.system) / 1000 / n).toFixed(1),
      wallMsPerImage: +((performance.now() - wall) / n).toFixed(1),
      preprocessWallMsPerImage: +((after.preprocessMs - before.preprocessMs) / n).toFixed(1),
      inferWallMsPerImage: +((after.inferMs - before.inferMs) / n).toFixed(1),
    };
  }
  result.rssEndMB = Math.round(process.memoryUsage().rss / 1e6);
  result.loadAverage = loadavg()[0]?.toFixed(2);
  await detector.close();
  return result;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const provider = process.argv[2] === 'cuda' ? 'cuda' : 'cpu';
  process.stdout.write(`${JSON.stringify(await measureDetectorCpu(provider), null, 1)}\n`);
}
