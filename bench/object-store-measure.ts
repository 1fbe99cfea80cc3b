/**
 * The numbers of docs/decisions/022-object-store.md for S3Proxy: its start (spawn to port open),
 * its JVM's RSS idle and after the transfers, and 100 MB put then read back through our
 * S3ObjectStore, twice. One JSON line. `node --import tsx bench/object-store-measure.ts`
 * (after `sh infra/provision.sh`). A measurement, not a test: nothing is asserted.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3Proxy } from '../infra/mod.ts';
import { openObjectStore } from '../objects/mod.ts';

const MB = 1024 * 1024;
const rssMB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dh-measure-'));
  const started = performance.now();
  const s3 = await startS3Proxy({ dir });
  const results: Record<string, number> = { startMs: Math.round(performance.now() - started) };
  try {
    results.rssIdleMB = Math.round(rssMB(s3.pid ?? 0));
    await using store = await openObjectStore(await s3.createBucket('measure'), {
      credentials: s3.credentials,
    });
    const chunk = new Uint8Array(MB).map((_, i) => i % 251);
    async function* body() {
      for (let i = 0; i < 100; i++) yield chunk;
    }
    for (let round = 0; round < 2; round++) {
      let t = performance.now();
      await store.put(`uploads/r${round}`, body());
      results[`putMBps${round}`] = Math.round(1_000_000 / (performance.now() - t)) / 10;
      t = performance.now();
      let n = 0;
      for await (const c of (await store.get(`uploads/r${round}`))
        .body as unknown as AsyncIterable<Uint8Array>)
        n += c.length;
      results[`getMBps${round}`] = Math.round(1_000_000 / (performance.now() - t)) / 10;
      if (n !== 100 * MB) throw new Error(`read back ${n} bytes of ${100 * MB}`);
    }
    results.rssAfterMB = Math.round(rssMB(s3.pid ?? 0));
  } finally {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

await main();
