#!/usr/bin/env bash
# Installs the packed package into a new project, as a user would (no --force, no
# --legacy-peer-deps), first alone, then beside the latest published version of every peer
# dependency (`latest`) or the lowest version each peer range admits (`lowest`), and runs the
# smoke suite in scripts/consumer/smoke against it: node:test for the package, Jest for
# toolgate/testing. Usage: scripts/consumer-check.sh latest|lowest
set -euo pipefail
which="${1:-}"
if [[ "$which" != latest && "$which" != lowest ]]; then
  echo "usage: $0 latest|lowest" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
root=$PWD
[[ -d dist ]] || npm run build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
mkdir "$work/app"
cd "$work/app"
cat > package.json <<'JSON'
{
  "name": "toolgate-consumer",
  "private": true,
  "type": "module",
  "jest": { "testEnvironment": "node", "transform": {}, "testMatch": ["**/*.jest.mjs"] }
}
JSON
cp "$root"/scripts/consumer/smoke/* .
install() { npm install --no-audit --no-fund --loglevel=error "$@"; }

echo "== $which: toolgate alone ($tarball, node $(node --version))"
install "$work/$tarball"
node --test --test-reporter=spec no-peers.test.mjs

mapfile -t peers < <(node "$root/scripts/consumer/peers.mjs" "$which")
zod=$(node -p "require('$root/package.json').dependencies.zod")
echo "== $which: beside ${peers[*]}"
install "${peers[@]}" "zod@$zod" jest@latest
npm ls --depth=0 | sed 's/^/   /'
node --test --test-reporter=spec core.test.mjs adapters.test.mjs suites.test.mjs
NODE_OPTIONS=--experimental-vm-modules npx --no-install jest --ci 2>&1 | tail -n 8
