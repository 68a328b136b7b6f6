#!/usr/bin/env bash
# Fetches the model2vec static embedding model for aimds-memory's `semantic` feature, from PyPI only (never a model
# hub), and unpacks its three files into models/model2vec/ (git-ignored; weights are never committed). A relative
# DEST is taken from the repository root.
#
#   scripts/fetch-embedding-model.sh [DEST]          # DEST defaults to models/model2vec
#   cargo run --release -p aimds-memory --features semantic --example similarity -- --model2vec models/model2vec
#
# The wheel is `tokenlearn-static-model` 0.1.1: a 10K-token quantised vocabulary, 64 dimensions, int8. Its metadata
# declares no licence, so the files are fetched for local use and never redistributed. They are the same on every
# platform, so the Linux x86-64 wheel is fetched everywhere and checked by its SHA-256.
set -euo pipefail
cd "$(dirname "$0")/.."

PKG=tokenlearn-static-model
VERSION=0.1.1
WHEEL=tokenlearn_static_model-0.1.1-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
WHEEL_SHA256=6ba4a2b1b4394023910f90bde6a408542e8c52b4aed00f2718685c217b2b2112
DEST=${1:-models/model2vec}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp \
    "$PKG==$VERSION" -d "$tmp"
echo "$WHEEL_SHA256  $tmp/$WHEEL" | sha256sum --check --quiet

mkdir -p "$DEST"
python3 - "$tmp/$WHEEL" "$DEST" <<'PY'
import sys, zipfile, pathlib
wheel, dest = sys.argv[1], pathlib.Path(sys.argv[2])
with zipfile.ZipFile(wheel) as z:
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        data = z.read(f"static_model/model/{name}")
        tmp = dest / f".{name}.part"
        tmp.write_bytes(data)
        tmp.replace(dest / name)
        print(f"{dest / name}: {len(data)} bytes")
PY
