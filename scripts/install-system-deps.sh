#!/usr/bin/env bash
# Installs the Debian packages the test suite and `make report` need.
# Idempotent: does nothing when every tool is already there. Needs root (or sudo)
# only when something is missing.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have chromium  || need+=(chromium)
have dnsmasq   || need+=(dnsmasq-base)
have udhcpc    || need+=(udhcpc)
have nft       || need+=(nftables)
have ip        || need+=(iproute2)
have tcpdump   || need+=(tcpdump)
have lnav      || need+=(lnav)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
# Chinese (zh-CN) reports and charts: Noto Sans CJK SC
[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || need+=(fonts-noto-cjk)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "install-system-deps: installing ${need[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if have sudo; then SUDO="sudo"; else
    echo "install-system-deps: not root and no sudo; install these yourself: ${need[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
