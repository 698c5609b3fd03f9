#!/usr/bin/env bash
# CPU per call of `wasim mock` (UAS side: 407 challenge, digest check, 100, 200, ACK, BYE) while SIPp, as
# the business UAC, drives it over UDP with Tests/IntegrationTests/SIPp/uac-digest.xml, and SIPp's own CPU
# per call in the same run. Both are read from /proc (utime + stime), so the two numbers share the machine's
# noise. Prints a table.
#   bash Benchmarks/mock-under-sipp.sh [rate=1000] [seconds=10]
set -euo pipefail
cd "$(dirname "$0")/.."
rate="${1:-1000}"; seconds="${2:-10}"; calls=$((rate * seconds))
[ -x .build/release/wasim ] || swift build -c release --product wasim
port=25060
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

.build/release/wasim mock --tls-port 25061 --udp-port $port --no-tcp --certs "$(mktemp -d)" > /tmp/wasim-bench-mock.log 2>&1 &
mock=$!
trap 'kill $mock 2>/dev/null || true' EXIT
sleep 1
mock_before=$(cpu $mock)
work=$(mktemp -d)
# One user per call (Meta refuses a second concurrent call to a user); the mock's default users are
# +15550200000..+15550299999, each allowed 5 connected calls per 24 h.
{ echo SEQUENTIAL; for i in $(seq 0 $((calls < 100000 ? calls - 1 : 99999))); do printf '+1555%07d;\n' $((200000 + i)); done; } > "$work/callees.csv"
( cd "$work" && sipp -sf "$OLDPWD/Tests/IntegrationTests/SIPp/uac-digest.xml" -inf callees.csv -key fromhost sip.example.com \
    -au 15550100001 -ap wasim-default-sip-password -t u1 -i 127.0.0.1 -m "$calls" -r "$rate" -l 20000 \
    -buff_size 4194304 -nostdin -trace_stat -fd 1 -timeout $((seconds + 60)) 127.0.0.1:$port > sipp.out 2>&1 ) &
sipp_pid=$!
sleep 0.5
sipp_proc=$(pgrep -n -x sipp || echo "")
sipp_cpu=0
while kill -0 $sipp_pid 2>/dev/null; do
  [ -n "$sipp_proc" ] && [ -r "/proc/$sipp_proc/stat" ] && sipp_cpu=$(cpu "$sipp_proc")
  sleep 0.2
done
wait $sipp_pid && status=0 || status=$?
mock_after=$(cpu $mock)
mock_rss=$(rss $mock)
stat_file=$(ls "$work"/uac-digest_*_.csv 2>/dev/null | head -1)
ok=$(tail -1 "$stat_file" | awk -F';' '{print $16}')
failed=$(tail -1 "$stat_file" | awk -F';' '{print $18}')
mock_us=$(awk -v a="$mock_before" -v b="$mock_after" -v t="$ticks" -v n="$calls" 'BEGIN {printf "%.1f", (b - a) / t * 1e6 / n}')
sipp_us=$(awk -v c="$sipp_cpu" -v t="$ticks" -v n="$calls" 'BEGIN {printf "%.1f", c / t * 1e6 / n}')
printf '\n%-34s %12s %12s\n' "UDP, $calls calls at $rate/s" "wasim mock" "SIPp UAC"
printf '%-34s %12s %12s\n' "role" "UAS+digest" "UAC+digest"
printf '%-34s %12s %12s\n' "CPU µs per call" "$mock_us" "$sipp_us"
printf '%-34s %12s %12s\n' "peak RSS (MB)" "$((mock_rss / 1024))" "-"
printf '%-34s %12s %12s\n' "calls successful / failed (SIPp)" "$ok / $failed" "exit $status"
rm -rf "$work"
