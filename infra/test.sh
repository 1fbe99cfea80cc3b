#!/bin/sh
# The test command: type-check, lint, then every *.test.ts under the architecture folders with
# node's own test runner (through tsx, no build step).
set -eu
cd "$(dirname "$0")/.."
echo "devicehub: type-check" >&2
npx tsc --noEmit -p .
echo "devicehub: lint" >&2
npx biome check . >/dev/null || npx biome check .
files=$(find bus actors edge gateway bench cli infra -name '*.test.ts' 2>/dev/null | sort)
# shellcheck disable=SC2086
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec $files
