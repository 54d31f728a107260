#!/usr/bin/env bash
# The whole test suite: unit tests, the storage suite on both backends (a throwaway etcd is
# started by the tests themselves), and the end-to-end tests with real kubectl.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install.sh
cargo build --workspace --bins
cargo test --workspace --no-fail-fast -- --test-threads 4
