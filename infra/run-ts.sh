#!/bin/sh
# Runs node with the given arguments (a TypeScript file, or --test and test files) on the
# project's Node.js (infra/node.sh), with Node's compile cache, through tsx's loader only where
# that node does not strip types itself (decision 062). `npm start`, `npm run cluster`,
# `npm run bench` and the suite run through it.
set -eu
node_bin=$(sh "$(dirname "$0")/node.sh")
# Each module's stripped and compiled code, kept between processes (Node 22.1+; others ignore it).
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-${DEVICEHUB_CACHE:-$HOME/.cache/devicehub}/node-compile-cache}"
if "$node_bin" -e 'process.exit(process.features.typescript ? 0 : 1)'; then
  exec "$node_bin" "$@"
fi
# tsx's loader (infra/ts-node-args.ts names the same file for child processes).
exec "$node_bin" --import "$(cd "$(dirname "$0")/.." && pwd)/node_modules/tsx/dist/loader.mjs" "$@"
