#!/usr/bin/env bash
# Installs the pinned Azurite (the Azure Storage emulator, from npm) into
# .ci/.azurite, unless that version is there already. The storage suite's
# end-to-end tests (sdk/storage/storage-blob-perf-tests) start it from
# there, one instance per test on a free port of 127.0.0.1, in memory,
# without telemetry. scripts/test.sh runs this first; it needs node and npm.
#
# Usage: bash scripts/install-azurite.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=3.37.0
DIR=.ci/.azurite
installed=$(node -p "require('./$DIR/node_modules/azurite/package.json').version" 2>/dev/null || true)
if [ "$installed" = "$VERSION" ] && [ -x "$DIR/node_modules/.bin/azurite-blob" ]; then
    exit 0
fi
if ! command -v npm >/dev/null; then
    echo "error: npm is needed to install Azurite $VERSION for the storage tests (apt-get install nodejs npm)" >&2
    exit 1
fi
echo "Installing Azurite $VERSION into $DIR (npm)"
npm install --prefix "$DIR" --no-audit --no-fund --save-exact --loglevel=error "azurite@$VERSION"
