#!/usr/bin/env bash
# Runs the whole test suite. Tests touch only 127.0.0.1; anything they need
# is started by the tests themselves (Azurite too, once installed here).
set -euo pipefail
cd "$(dirname "$0")/.."
# The storage suite's end-to-end tests start Azurite (the storage
# emulator) from the pinned npm install in .ci/.azurite.
bash scripts/install-azurite.sh
bash scripts/install-chromium.sh
cargo test --workspace --all-targets "$@"
cargo test --workspace --doc
# The runner's end-to-end tests build without systemperf's HTTP transport
# tests (no hyper, reqwest, ureq or azure_core), and that runner lists and
# runs its tests. (The runner library is the same either way; the tests
# that need no HTTP stack already ran above, against the full build.)
cargo test -p systemperf-tests --no-default-features --all-targets "$@" -- usage:: output::
