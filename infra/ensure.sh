#!/bin/sh
# Installs what `npm start`, `npm test` and `npm run bench` need, once, then gets out of the way.
# Idempotent and quick (well under a second) when everything is present.
set -eu
cd "$(dirname "$0")/.."

# npm dependencies: install when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "devicehub: installing npm dependencies…" >&2
  # npm ci installs exactly the lockfile; some npm versions write lockfiles without the optional
  # platform packages of other machines and then refuse them in npm ci: fall back to npm install.
  npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --loglevel=error
fi

# Servers the project runs itself (tests, demo, bench).
sh infra/provision.sh
