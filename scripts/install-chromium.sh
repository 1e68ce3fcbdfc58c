#!/usr/bin/env bash
# Installs what the HTML report's browser tests need: Chromium from the
# distribution's packages (when /usr/bin/chromium is missing) and the
# pinned playwright-core (the driver only, no browser download) from npm
# into .ci/.playwright, unless that version is there already. The tests
# (crates/systemperf-tests/tests/tests/report.rs) run
# scripts/check-report.js with node; scripts/test.sh runs this first.
#
# Usage: bash scripts/install-chromium.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.65.1
DIR=.ci/.playwright
if [ ! -x /usr/bin/chromium ]; then
    if ! command -v apt-get >/dev/null; then
        echo "error: the report tests need Chromium at /usr/bin/chromium (install the distribution's chromium package)" >&2
        exit 1
    fi
    echo "Installing Chromium (apt-get)"
    sudo_if_needed=()
    if [ "$(id -u)" != 0 ]; then sudo_if_needed=(sudo); fi
    "${sudo_if_needed[@]}" apt-get install -y --no-install-recommends chromium \
        || { "${sudo_if_needed[@]}" apt-get update && "${sudo_if_needed[@]}" apt-get install -y --no-install-recommends chromium; }
fi
installed=$(node -p "require('./$DIR/node_modules/playwright-core/package.json').version" 2>/dev/null || true)
if [ "$installed" = "$VERSION" ]; then
    exit 0
fi
if ! command -v npm >/dev/null; then
    echo "error: npm is needed to install playwright-core $VERSION for the report tests (apt-get install nodejs npm)" >&2
    exit 1
fi
echo "Installing playwright-core $VERSION into $DIR (npm)"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$DIR" --no-audit --no-fund --save-exact --loglevel=error "playwright-core@$VERSION"
