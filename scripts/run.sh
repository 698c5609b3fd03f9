#!/usr/bin/env bash
# The main job: build wasim (release) and run a scenario against the embedded mock.
#   bash scripts/run.sh                       # Scenarios/bic-burst.yaml
#   bash scripts/run.sh Scenarios/bic-basic.yaml [wasim scenario options...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
swift build -c release --product wasim
scenario="${1:-Scenarios/bic-burst.yaml}"
shift || true
exec .build/release/wasim scenario "$scenario" "$@"
