#!/bin/sh
# The test command: type-check, lint, then every *.test.ts under the architecture folders with
# node's own test runner (through tsx, no build step); then the suite a second time on a real
# Redis Cluster (3 masters, 3 replicas; see infra/test-redis.ts).
set -eu
cd "$(dirname "$0")/.."
echo "devicehub: type-check" >&2
npx tsc --noEmit -p .
echo "devicehub: lint" >&2
npx biome check . >/dev/null || npx biome check .
# --test-force-exit: a test file whose tests have all finished exits even if a handle it leaked
# (a client reconnecting to a server its hooks stopped) would keep it alive; CI hung ten minutes
# on one once (edge/link/kafka-cluster.test.ts, all of its tests passed).
files=$(find bus actors edge gateway objects logs clips vision bench cli infra deploy -name '*.test.ts' 2>/dev/null | sort)
# shellcheck disable=SC2086
node --import tsx --test --test-concurrency=1 --test-force-exit --test-reporter=spec $files
echo "devicehub: the suite again, on a Redis Cluster" >&2
# The files that use the suite's test Redis (infra/redis-test-files.ts): not those that bring their
# own (the failover test's cluster, devicehub cluster's topology, the demo) or use none (deploy/,
# the benchmarks' smoke test, the protocol, the CA, the brokers' TLS), which would run the same twice.
cluster_files=$(node --import tsx infra/redis-test-files.ts $(find bus actors edge gateway objects logs clips vision cli -name '*.test.ts' \
  ! -name 'cluster-failover.test.ts' ! -name 'cluster-command.test.ts' | sort))
# shellcheck disable=SC2086
# Two files at a time: the tunnel tests each hold a port block of their own (infra/port-block.ts).
DEVICEHUB_TEST_REDIS=cluster exec node --import tsx --test --test-concurrency=2 --test-force-exit --test-reporter=spec $cluster_files
