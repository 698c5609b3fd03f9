#!/usr/bin/env bash
# Soak: `wasim mock` and `wasim scenario` (release builds) run against each other at a moderate rate for
# MINUTES, and every minute the resident memory and open descriptors of both processes are printed. A long
# run must end flat: what a minute of calls allocates is given back.
#
#   bash Benchmarks/soak.sh [MINUTES] [RATE]        defaults: 30 minutes, 100 calls/s, 10 s hold (~1,000 up)
#
# Not in CI (it takes the time it says). Output: Results/soak-<time>/soak.csv and the scenario's results.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-30}
rate=${2:-100}
[[ "$minutes" =~ ^[0-9]+$ && "$minutes" -ge 2 ]] || { echo "usage: bash Benchmarks/soak.sh [MINUTES>=2] [RATE]" >&2; exit 2; }
[[ "$rate" =~ ^[0-9]+$ && "$rate" -ge 1 ]] || { echo "soak.sh: RATE is calls per second, a whole number" >&2; exit 2; }
swift build -c release --product wasim 2>&1 | tail -1
wasim=.build/release/wasim
out=Results/soak-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$wasim" mock --config Scenarios/mocks/load.yaml --certs "$out/certs" --tls-port "$port" --no-udp --no-tcp >"$out/mock.log" 2>&1 &
mock=$!
cleanup() { kill "$mock" "${gen:-}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 100); do grep -q "listening TLS" "$out/mock.log" && break; sleep 0.1; done
grep -q "listening TLS" "$out/mock.log" || { echo "soak.sh: the mock did not start:" >&2; cat "$out/mock.log" >&2; exit 1; }
cat >"$out/soak.yaml" <<YAML
name: soak
target: "sip:127.0.0.1:$port;transport=tls"
business: { number: "+33639980001", domain: sip.example.com, password: wasim-default-sip-password }
transport: { protocol: tls, ca: "$out/certs/ca.pem", server_name: wa.meta.vc }
callees: { range: "+15550200000..+15550209999" }
load: { rate: $rate/s, duration: ${minutes}m }
call: { hold: 10s }
expect:
  thresholds:
    - "rate(connected) >= 0.999"
YAML
"$wasim" scenario "$out/soak.yaml" --results "$out" --certs "$out/certs" >"$out/scenario.log" 2>&1 &
gen=$!
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
echo "minute,mock_rss_kib,mock_fds,generator_rss_kib,generator_fds" | tee "$out/soak.csv"
for m in $(seq 1 "$minutes"); do
  sleep 60
  kill -0 "$gen" 2>/dev/null || break
  echo "$m,$(rss $mock),$(fds $mock),$(rss $gen),$(fds $gen)" | tee -a "$out/soak.csv"
done
wait "$gen" && status=0 || status=$?
tail -5 "$out/scenario.log"
python3 - "$out/soak.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
if len(rows) < 2:
    sys.exit("soak: fewer than two samples")
# Minute 1 is the warm-up. The mock's tables are bounded but fill first (nonces live 300 s, the ledger keeps
# 10,000 calls per loop, one entry per (business, user) pair: 10,000 callees, all called within 100 s), so
# the verdict is taken over the second half of the run, from its middle minute to its last; the start is
# shown too. What still grows by design: each pair keeps its connected calls' times of the last 24 h (Meta's
# per-pair limit needs them), 8 bytes a call, and the generator keeps one time-series row a second.
start = rows[1] if len(rows) > 2 else rows[0]
middle, last = rows[(len(rows) - 1) // 2], rows[-1]
for who in ("mock", "generator"):
    r = lambda row: int(row[f"{who}_rss_kib"])
    f = lambda row: int(row[f"{who}_fds"])
    growth = (r(last) - r(middle)) / r(middle) * 100 if r(middle) else 0
    verdict = "flat" if growth <= 5 and f(last) <= f(middle) + 16 else "GROWING"
    print(f"{who}: RSS {r(start)/1024:.1f} MB at minute {start['minute']}, {r(middle)/1024:.1f} MB at minute "
          f"{middle['minute']}, {r(last)/1024:.1f} MB at minute {last['minute']} ({growth:+.1f}% over the second half); "
          f"fds {f(start)} -> {f(middle)} -> {f(last)}: {verdict}")
PY
echo "soak: $out (scenario exit $status)"
exit $status
