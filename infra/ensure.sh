#!/bin/sh
# Installs what `npm start`, `npm test` and `npm run bench` need, once, then gets out of the way.
# Idempotent and quick (well under a second) when everything is present.
set -eu
cd "$(dirname "$0")/.."

# npm dependencies: install when node_modules is missing or was installed from another lockfile.
# By its content, not its time: a checkout (a git worktree for an A/B run, another branch) gives
# the lockfile a new time, and npm ci then emptied node_modules — through a symlinked one, the
# main checkout's.
# The patches of patches/ (applied by npm's postinstall, patch-package) count as part of it.
lock_sum=$(cat package-lock.json patches/*.patch | sha256sum | cut -d' ' -f1)
if [ ! -f node_modules/.package-lock.json ] || [ "$(cat node_modules/.devicehub-lock 2>/dev/null || true)" != "$lock_sum" ]; then
  echo "devicehub: installing npm dependencies…" >&2
  # npm ci installs exactly the lockfile; some npm versions write lockfiles without the optional
  # platform packages of other machines and then refuse them in npm ci: fall back to npm install.
  npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.devicehub-lock
fi

# The project's Node.js (Node 24, which strips TypeScript's types itself: decision 062).
sh infra/node.sh >/dev/null

# Servers the project runs itself (tests, demo, bench).
sh infra/provision.sh
