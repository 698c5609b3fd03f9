#!/usr/bin/env bash
# Media cost on this machine: SRTP per packet, and how many concurrent full-media calls (50 packets/s each
# way) it sustains. Prints Markdown tables. Usage: bash Benchmarks/media-bench.sh [seconds-per-level] [max-calls]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product media-bench >/dev/null
.build/release/media-bench "${1:-4}" "${2:-1600}"
