#!/bin/sh
# The test command: type-check, lint, then every *.test.ts under the architecture folders with
# node's own test runner, no build step; then the suite a second time on a real Redis Cluster
# (3 masters, 3 replicas; see infra/test-redis.ts).
# The suite runs on the Node.js infra/node.sh provides (Node 24, which strips types itself;
# decision 062), through tsx's loader only where that is an older one. The command line's help
# test runs on the machine's node through tsx instead, so that every command still loads there.
set -eu
cd "$(dirname "$0")/.."
test_node=$(sh infra/node.sh)
machine_node=$(command -v node)
# A test that hangs fails after 15 minutes (each test on Node 24; the whole file on Node 20), where
# the longest file takes ~5: a hang is a red test with its name, not a CI run cut off at its limit.
hang_ms=900000
echo "devicehub: the suite on node $("$test_node" --version)" >&2
echo "devicehub: type-check" >&2
npx tsc --noEmit -p .
echo "devicehub: lint" >&2
npx biome check . >/dev/null || npx biome check .
# --test-force-exit: a test file whose tests have all finished exits even if a handle it leaked
# (a client reconnecting to a server its hooks stopped) would keep it alive; CI hung ten minutes
# on one once (edge/link/kafka-cluster.test.ts, all of its tests passed).
files=$(find bus actors edge gateway objects logs clips vision bench cli infra deploy -name '*.test.ts' 2>/dev/null | sort)
# The main pass runs in two streams (decision 051 has the rehearsals behind the choice), about 20
# minutes instead of 38 (the whole run about 31 instead of 42-50). DEVICEHUB_TEST_STREAMS=1 runs
# one file at a time.
if [ "${DEVICEHUB_TEST_STREAMS:-2}" = 2 ]; then
  # Two streams at once, each one file at a time: one file at a time left a core idle most of the
  # run (40 % busy), and node's own --test-concurrency=2 could pair two of the heaviest files (the
  # benchmarks' smoke tests, devicehub cluster and demo, Kafka's JVMs, Schemathesis). Here the
  # heavy ones run one after another in their own stream, beside the light ones.
  # The streams took 25 min (light) and 20 min (heavy); actors/faults, cli/help and cli/shutdown
  # (2 minutes of processes starting and stopping) moved across to even them out. Later 28 min
  # beside 20: the frp tunnels, the edge certificates and the clips end to end (3.5 min) moved too.
  # On Node 24 (decision 062) 20 min (light) beside 24: actors/faults and cli/shutdown moved back.
  heavy_pattern='^(bench/|cli/(cluster-command|demo-command|help)\.test|gateway/(openapi-fuzz|tls)\.test|.*kafka|edge/agent/tunnels|gateway/credentials/|clips/e2e\.test)'
  heavy=$(printf '%s\n' $files | grep -E "$heavy_pattern")
  # The help test runs on the machine's node instead (below), where that is another one.
  [ "$test_node" = "$machine_node" ] || heavy=$(printf '%s\n' $heavy | grep -v '^cli/help\.test\.ts$')
  light=$(printf '%s\n' $files | grep -vE "$heavy_pattern")
  heavy_log=$(mktemp "${TMPDIR:-/tmp}/devicehub-heavy-tests.XXXXXX")
  echo "devicehub: $(echo "$light" | wc -l) test files here, $(echo "$heavy" | wc -l) heavy ones beside them (their top-level results marked 'heavy:' as they end, their whole output after)" >&2
  # shellcheck disable=SC2086
  {
    set +e
    sh infra/run-ts.sh --test --test-timeout="$hang_ms" --test-concurrency=1 --test-force-exit --test-reporter=spec $heavy
    heavy_status=$?
    if [ "$test_node" != "$machine_node" ]; then
      echo "devicehub: cli/help.test.ts on the machine's node $(node --version), through tsx" >&2
      node --import tsx --test --test-timeout="$hang_ms" --test-force-exit --test-reporter=spec cli/help.test.ts || heavy_status=1
    fi
    exit $heavy_status
  } >"$heavy_log" 2>&1 &
  heavy_pid=$!
  # Progress of the heavy stream: its top-level results, as they come (tail ends with the stream).
  tail -n +1 -F --pid="$heavy_pid" "$heavy_log" 2>/dev/null | grep --line-buffered -E '^(✔|✖) ' | sed -u 's/^/heavy: /' >&2 &
  set +e
  # shellcheck disable=SC2086
  sh infra/run-ts.sh --test --test-timeout="$hang_ms" --test-concurrency=1 --test-force-exit --test-reporter=spec $light
  light_rc=$?
  wait "$heavy_pid"
  heavy_rc=$?
  wait
  set -e
  echo "devicehub: the heavy test files (exit $heavy_rc)" >&2
  cat "$heavy_log"
  rm -f "$heavy_log"
  if [ "$light_rc" -ne 0 ] || [ "$heavy_rc" -ne 0 ]; then exit 1; fi
else
  # shellcheck disable=SC2086
  sh infra/run-ts.sh --test --test-timeout="$hang_ms" --test-concurrency=1 --test-force-exit --test-reporter=spec $files
fi
echo "devicehub: the suite again, on a Redis Cluster" >&2
# The files that use the suite's test Redis (infra/redis-test-files.ts): not those that bring their
# own (the failover test's cluster, devicehub cluster's topology, the demo) or use none (deploy/,
# the benchmarks' smoke test, the protocol, the CA, the brokers' TLS), which would run the same twice.
cluster_files=$(node --import tsx infra/redis-test-files.ts $(find bus actors edge gateway objects logs clips vision cli -name '*.test.ts' \
  ! -name 'cluster-failover.test.ts' ! -name 'cluster-command.test.ts' | sort))
# shellcheck disable=SC2086
# Two files at a time: the tunnel tests each hold a port block of their own (infra/port-block.ts).
DEVICEHUB_TEST_REDIS=cluster exec sh infra/run-ts.sh --test --test-timeout="$hang_ms" --test-concurrency=2 --test-force-exit --test-reporter=spec $cluster_files
