#!/usr/bin/env bash
# Fuzzes one of wasim's parsers with libFuzzer and AddressSanitizer.
#
#   bash scripts/fuzz.sh TARGET SECONDS     one target (sip-stream, sip-datagram, sip-uri, digest, sdp, stun,
#                                           scenario, mock-config)
#   bash scripts/fuzz.sh all SECONDS        each target in turn (CI runs `all 15` as a smoke test)
#
# The build goes to .build/fuzz (release, -sanitize=fuzzer,address). Seeds come from Fuzz/Corpus/TARGET and,
# for SIP, the RFC 4475 torture messages; what the fuzzer learns is kept in .build/fuzz/corpus/TARGET. A crash
# is written to Fuzz/Regressions/TARGET/ and the script exits 1: commit that file with the fix, and the
# suite replays it (FuzzRegressionTests runs every file of Fuzz/Corpus and Fuzz/Regressions).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(sip-stream sip-datagram sip-uri digest sdp stun scenario mock-config)
target=${1:-}
seconds=${2:-60}
if [[ -z "$target" ]] || { [[ "$target" != all ]] && [[ ! " ${targets[*]} " == *" $target "* ]]; }; then
  echo "usage: bash scripts/fuzz.sh TARGET|all SECONDS; targets: ${targets[*]}" >&2
  exit 2
fi
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number, not '$seconds'" >&2; exit 2; }

echo "building wasim-fuzz with libFuzzer and AddressSanitizer (.build/fuzz)"
mkdir -p .build
if ! swift build -c release --product wasim-fuzz --build-path .build/fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING >.build/fuzz-build.log 2>&1; then
  grep -v "warning: Cannot export local symbol" .build/fuzz-build.log | tail -40
  echo "fuzz.sh: the build failed (.build/fuzz-build.log)" >&2
  exit 1
fi
binary=.build/fuzz/release/wasim-fuzz

seeds_for() {
  case "$1" in
    sip-stream|sip-datagram) echo "Fuzz/Corpus/sip Tests/SIPCoreTests/Fixtures/torture/valid Tests/SIPCoreTests/Fixtures/torture/invalid" ;;
    scenario) echo "Fuzz/Corpus/scenario Scenarios" ;;
    mock-config) echo "Fuzz/Corpus/mock-config Scenarios/mocks" ;;
    *) echo "Fuzz/Corpus/$1" ;;
  esac
}

run() {
  local t=$1 corpus=.build/fuzz/corpus/$1 crashes=Fuzz/Regressions/$1
  mkdir -p "$corpus" "$crashes"
  local seeds=()
  for d in $(seeds_for "$t"); do [[ -d "$d" ]] && seeds+=("$d"); done
  [[ -d "$crashes" ]] && seeds+=("$crashes")
  local max_len=4096
  [[ "$t" == scenario || "$t" == mock-config ]] && max_len=16384
  echo "fuzzing $t for ${seconds}s (seeds: ${seeds[*]})"
  local log
  log=$(mktemp)
  if WASIM_FUZZ_TARGET=$t ASAN_OPTIONS=detect_leaks=0 "$binary" "$corpus" "${seeds[@]}" \
      -max_total_time="$seconds" -max_len=$max_len -timeout=10 -rss_limit_mb=2048 -seed=1 \
      -artifact_prefix="$crashes/" -print_final_stats=1 >"$log" 2>&1; then
    # The last status line: inputs run, coverage (edges, features), corpus size, executions per second.
    grep -E "^#[0-9]+" "$log" | tail -1 | sed "s/^/  $t: /"
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" | sed "s/^/  $t: /"
    rm -f "$log"
  else
    tail -40 "$log"
    echo "fuzz.sh: $t found a crash (above); the input is in $crashes/" >&2
    rm -f "$log"
    return 1
  fi
}

if [[ "$target" == all ]]; then
  failed=0
  for t in "${targets[@]}"; do run "$t" || failed=1; done
  exit $failed
fi
run "$target"
