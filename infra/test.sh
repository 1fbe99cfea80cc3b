#!/bin/sh
# The test command: type-check, lint, then every *.test.ts under the architecture folders with
# node's own test runner (through tsx, no build step); then the bus, actor and outbox suites a
# second time on a real Redis Cluster (3 masters, 3 replicas; see infra/test-redis.ts).
set -eu
cd "$(dirname "$0")/.."
echo "devicehub: type-check" >&2
npx tsc --noEmit -p .
echo "devicehub: lint" >&2
npx biome check . >/dev/null || npx biome check .
files=$(find bus actors edge gateway bench cli infra deploy -name '*.test.ts' 2>/dev/null | sort)
# shellcheck disable=SC2086
node --import tsx --test --test-concurrency=1 --test-reporter=spec $files
echo "devicehub: the bus, actor and outbox suites again, on a Redis Cluster" >&2
cluster_files="$(find bus actors -name '*.test.ts' ! -name 'cluster-failover.test.ts' | sort) gateway/outbox/outbox.test.ts"
# shellcheck disable=SC2086
DEVICEHUB_TEST_REDIS=cluster exec node --import tsx --test --test-concurrency=1 --test-reporter=spec $cluster_files
