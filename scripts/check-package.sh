#!/usr/bin/env bash
# Packs the package as npm would publish it and checks the tarball with publint and attw.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d dist ]] || npm run build
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tarball=$(npm pack --silent --pack-destination "$tmp" | tail -n 1)
echo "packed $tarball ($(du -h "$tmp/$tarball" | cut -f1))"
npx --no-install publint run "$tmp/$tarball" --strict
npx --no-install attw "$tmp/$tarball" --profile esm-only
