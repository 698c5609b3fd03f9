#!/usr/bin/env bash
# libsrtp2 from Debian's own source package (the same 2.5.0 and patches), configured --enable-openssl and
# installed under /usr/local, where pkg-config and the dynamic linker look first. Debian's binary package
# uses NSS, which creates and locks a crypto context per packet: at a few hundred concurrent media legs
# NSS took about 35 % of wasim's CPU. OpenSSL's AES-CM uses AES-NI. Same library, same API, same RFC 3711
# test vectors (Tests/WasimMediaTests). Idempotent: does nothing when the build is already installed.
#   bash scripts/build-libsrtp2.sh     (needs root or sudo; scripts/setup-debian.sh runs it)
set -euo pipefail
marker=/usr/local/lib/pkgconfig/libsrtp2.pc
if [ -f "$marker" ] && grep -q "Libs.private:.*-lcrypto" "$marker"; then exit 0; fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
# Debian's source packages: a deb-src entry for bookworm, next to the binary one.
sources=/etc/apt/sources.list.d/wasim-deb-src.sources
if ! grep -rqs "^Types:.*deb-src" /etc/apt/sources.list.d/ && ! grep -qs "^deb-src" /etc/apt/sources.list; then
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' | $SUDO tee "$sources" >/dev/null
  $SUDO apt-get update -qq
fi
missing=()
for p in dpkg-dev make gcc libssl-dev pkg-config; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source -qq libsrtp2 >/dev/null 2>&1 || { echo "error: apt-get source libsrtp2 failed (is a deb-src entry reachable?)"; exit 1; }
cd libsrtp2-*/
./configure --enable-openssl --prefix=/usr/local >/dev/null
make -j"$(nproc)" shared_library >/dev/null
$SUDO make install >/dev/null
$SUDO ldconfig
echo "libsrtp2 $(pkg-config --modversion libsrtp2) with OpenSSL installed under /usr/local"
