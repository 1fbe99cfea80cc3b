/**
 * Which test files the Redis Cluster pass runs (infra/test.sh): those that use the suite's test
 * Redis (`infra/test-redis.ts`), directly or through a helper they import from a `testdata/`
 * folder. A file that starts no Redis of ours (the protocol's decoders, the CA, a broker's TLS
 * listeners, the demo, which runs its own) would only run the same way twice. Nor a file that says
 * `Redis Cluster pass: once` with its reason: its Redis use is incidental to what it tests (TLS,
 * Kafka's security, API keys, the OpenAPI fuzzer), and the operations it makes are the ones the
 * bus's, the actors' and the links' own files run on the cluster.
 * Usage: node --import tsx infra/redis-test-files.ts FILE… (prints the ones to run, one per line).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const USES_TEST_REDIS = /infra\/test-redis\.ts|\.\/test-redis\.ts/;
const RUN_ONCE = /Redis Cluster pass: once/;
const TESTDATA_IMPORT = /from '(\.{1,2}\/[^']*testdata\/[^']+)'/g;

export function usesTestRedis(file: string): boolean {
  const text = readFileSync(file, 'utf8');
  if (RUN_ONCE.test(text)) return false;
  if (USES_TEST_REDIS.test(text)) return true;
  for (const [, path] of text.matchAll(TESTDATA_IMPORT)) {
    const helper = join(dirname(file), path!);
    if (existsSync(helper) && USES_TEST_REDIS.test(readFileSync(helper, 'utf8'))) return true;
  }
  return false;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const file of process.argv.slice(2)) if (usesTestRedis(file)) process.stdout.write(`${file}\n`);
}
