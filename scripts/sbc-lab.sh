#!/usr/bin/env bash
# The SBC lab: Meta's endpoint (`wasim mock`, TLS 5061) and Kamailio as the business SBC in both directions
# (deploy/kamailio/), on 127.0.0.1, for Scenarios/sbc-kamailio-*.yaml and `wasim capacity`. The mock runs
# Scenarios/mocks/load.yaml: Meta's rules, with the 24 h and concurrency limits out of the way of load runs.
#
#   bash scripts/sbc-lab.sh up       start everything (builds wasim in release mode if needed)
#   bash scripts/sbc-lab.sh down     stop everything
#   bash scripts/sbc-lab.sh status   what is running, and where
#
# State, logs and the mock's ledger go to .sbc-lab/. Certificates come from `wasim certs` in Certs/ (the
# folder `wasim scenario` reads by default), so the UIC scenario's mock trusts Kamailio's certificate.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
state="$root/.sbc-lab"
wasim="${WASIM:-$root/.build/release/wasim}"
certs="${CERTS:-$root/Certs}"
kamailio="${KAMAILIO:-$(command -v kamailio || echo /usr/sbin/kamailio)}"
# Kamailio's shared memory in MB (its default, 64, runs out near 400 calls/s with TLS towards Meta: every
# transaction, dialog and TLS buffer lives there). `wasim capacity` finds that knee when you set it back.
shm="${KAMAILIO_SHM_MB:-512}"

# name | listening sockets ("proto:port") | command
services=(mock bic bic-wrong-domain uic)

ports_of() {
    case "$1" in
        mock) echo "tcp:5061" ;;
        bic) echo "udp:5070 tcp:5071" ;;
        bic-wrong-domain) echo "udp:5072 tcp:5073" ;;
        uic) echo "tcp:5081 udp:5082" ;;
    esac
}

listening() { # proto:port
    local proto=${1%%:*} port=${1##*:}
    if [ "$proto" = tcp ]; then ss -Hltn "sport = :$port" | grep -q .; else ss -Hlun "sport = :$port" | grep -q .; fi
}

start() { # name, command...
    local name=$1; shift
    if [ -f "$state/$name.pid" ] && kill -0 "$(cat "$state/$name.pid")" 2>/dev/null; then
        echo "$name: already running (pid $(cat "$state/$name.pid"))"
        return
    fi
    setsid "$@" >"$state/$name.log" 2>&1 < /dev/null &
    echo $! >"$state/$name.pid"
}

stop() { # name
    local name=$1 pid
    [ -f "$state/$name.pid" ] || return 0
    pid=$(cat "$state/$name.pid")
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$state/$name.pid"
    echo "$name: stopped"
}

up() {
    mkdir -p "$state"
    [ -x "$wasim" ] || swift build -c release --product wasim
    [ -x "$kamailio" ] || { echo "kamailio is not installed (apt-get install kamailio kamailio-tls-modules)" >&2; exit 1; }
    for name in "${services[@]}"; do
        for p in $(ports_of "$name"); do
            if listening "$p" && ! { [ -f "$state/$name.pid" ] && kill -0 "$(cat "$state/$name.pid")" 2>/dev/null; }; then
                echo "port ${p##*:} (${p%%:*}) is taken by another process: free it, or stop what holds it" >&2; exit 1
            fi
        done
    done
    "$wasim" certs --out "$certs" >/dev/null
    sed "s#@CERTS@#$certs#g" deploy/kamailio/tls.cfg.in >"$state/tls.cfg"
    local tls="TLS_CONFIG=\"$state/tls.cfg\""

    start mock "$wasim" mock --config Scenarios/mocks/load.yaml --certs "$certs" --tls-port 5061 --no-udp --no-tcp --lab-route-host 127.0.0.1 \
        --ledger "$state/mock-ledger.jsonl"
    start bic "$kamailio" -m "$shm" -DD -E -f deploy/kamailio/bic.cfg -A "$tls"
    start bic-wrong-domain "$kamailio" -m "$shm" -DD -E -f deploy/kamailio/bic.cfg -A "$tls" \
        -A "BUSINESS_LISTEN=udp:127.0.0.1:5072" -A "META_LISTEN=tls:127.0.0.1:5073" -A 'SIP_DOMAIN="sbc.wrong-example.net"'
    start uic "$kamailio" -m "$shm" -DD -E -f deploy/kamailio/uic.cfg -A "$tls"

    for name in "${services[@]}"; do
        for p in $(ports_of "$name"); do
            for _ in $(seq 1 100); do listening "$p" && break; sleep 0.1; done
            if ! listening "$p"; then
                echo "$name did not listen on ${p%%:*} ${p##*:}; its log ($state/$name.log):" >&2
                tail -20 "$state/$name.log" >&2
                down; exit 1
            fi
        done
    done
    status
}

down() {
    for name in "${services[@]}"; do stop "$name"; done
}

status() {
    for name in "${services[@]}"; do
        if [ -f "$state/$name.pid" ] && kill -0 "$(cat "$state/$name.pid")" 2>/dev/null; then
            echo "$name: running (pid $(cat "$state/$name.pid"); $(ports_of "$name"); log $state/$name.log)"
        else
            echo "$name: not running"
        fi
    done
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: bash scripts/sbc-lab.sh up|down|status" >&2; exit 2 ;;
esac
