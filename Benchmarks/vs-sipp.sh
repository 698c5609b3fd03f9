#!/usr/bin/env bash
# wasim and SIPp side by side on this machine, in one run: builds wasim (release), then runs every row of
# Benchmarks/vs_sipp.py (generator CPU, highest clean rate, server CPU, TLS, held-call and finished-call
# memory, the embedded mock) and prints a Markdown table with ratios. Raw output: Results/bench-<UTC>/.
#   bash Benchmarks/vs-sipp.sh                 # every row (about 25 minutes)
#   bash Benchmarks/vs-sipp.sh --quick         # shorter steps, for a first look
#   bash Benchmarks/vs-sipp.sh --rows generator,server
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
swift build -c release --product wasim >/dev/null
exec python3 Benchmarks/vs_sipp.py "$@"
