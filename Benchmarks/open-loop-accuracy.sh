#!/usr/bin/env bash
# Open-loop accuracy of the load generator: runs Benchmarks/open-loop-200cps.yaml (release build) and prints
# target vs achieved start rate, start-lag percentiles, loop lag and the verdict.
# Usage: bash Benchmarks/open-loop-accuracy.sh [scenario]
set -euo pipefail
cd "$(dirname "$0")/.."
scenario="${1:-Benchmarks/open-loop-200cps.yaml}"
swift build -c release --product wasim >/dev/null
out=$(mktemp -d)
.build/release/wasim scenario "$scenario" --results "$out" >/dev/null || true
summary=$(ls -d "$out"/*/ | head -1)summary.json
python3 - "$summary" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
target, achieved = s["rate"]["target_cps"], s["rate"]["achieved_cps"]
lag = s["latency_ms"]["start_lag"]
g = s["generator"]
error = abs(achieved - target) / target * 100
print("| target calls/s | achieved start rate | error | start lag p50 | p99 | max | late starts | send backlog max | loop lag p99 | CPU s | saturated |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
print(f"| {target:.1f} | {achieved:.2f} | {error:.2f} % | {lag['p50']:.3f} ms | {lag['p99']:.3f} ms | {lag['max']:.3f} ms | {g['late_starts']} | {g['send_backlog_max']} | {g['loop_lag_ms_p99']:.3f} ms | {g['cpu_seconds']:.2f} | {g['saturated']} |")
ok = error <= 1 and lag["p99"] < 5 and not g["saturated"]
print("verdict:", "within 1 % and start lag p99 < 5 ms" if ok else "NOT within bounds")
PY
rm -rf "$out"
