#!/usr/bin/env bash
# The tests: unit tests, and interop tests that start real peers (SIPp, baresip, openssl s_client).
# Peers are required here: a missing one fails the run instead of skipping its tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
export WASIM_REQUIRE_PEERS=1
swift build --build-tests
swift test --skip-build "$@"
