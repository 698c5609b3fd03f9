#!/usr/bin/env bash
# CPU per call of wasim's UAC and the embedded mock together (Benchmarks/cpu-per-call.yaml: 3,000 UDP calls at
# 300/s, each INVITE, 407, ACK, INVITE, 200, ACK, BYE, 200), run N times (default 5). This machine is noisy:
# compare the minimum and the median of two builds, not single runs.
#   bash Benchmarks/cpu-per-call.sh [runs] [wasim binary]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
binary="${2:-.build/release/wasim}"
[ "$binary" != ".build/release/wasim" ] || swift build -c release --product wasim >/dev/null
out=$(mktemp -d)
for i in $(seq 1 "$runs"); do
  "$binary" scenario Benchmarks/cpu-per-call.yaml --results "$out/$i" >/dev/null || true
done
python3 - "$out" <<'PY'
import json, sys, glob, statistics
rows = []
for path in sorted(glob.glob(sys.argv[1] + "/*/*/summary.json")):
    s = json.load(open(path))
    rows.append((s["generator"]["cpu_seconds"] / max(1, s["calls"]["attempted"]) * 1e6, s["calls"]["connected"], s["calls"]["attempted"]))
us = sorted(r[0] for r in rows)
print("| runs | calls each | connected | CPU µs per call: min | median | max |")
print("|---|---|---|---|---|---|")
print(f"| {len(rows)} | {rows[0][2]} | {min(r[1] for r in rows)}–{max(r[1] for r in rows)} | {us[0]:.0f} | {statistics.median(us):.0f} | {us[-1]:.0f} |")
PY
rm -rf "$out"
