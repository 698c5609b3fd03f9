#!/usr/bin/env bash
# Installs the Debian packages wasim's tests and lab peers use, when missing. Needs root (or sudo).
# Swift itself (6.x) is not a Debian package: it must already be on PATH.
set -euo pipefail

# chromium (with a real font, DejaVu): headless, to measure report.html's layout in a 1280 px window (ReportLayoutTests).
packages=(pkg-config libssl-dev libsrtp2-dev sip-tester baresip sipsak sipvicious tshark kamailio kamailio-tls-modules openssl iproute2 dnsmasq-base curl ca-certificates chromium fonts-dejavu-core)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
bash "$(dirname "$0")/build-libsrtp2.sh"
command -v swift >/dev/null || { echo "error: swift is not on PATH (install a Swift 6 toolchain)"; exit 2; }
