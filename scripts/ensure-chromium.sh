#!/usr/bin/env bash
# Browser tests drive Debian's chromium + chromedriver (no browser downloads here).
set -euo pipefail
have_font() { fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; }
if command -v chromium >/dev/null && command -v chromedriver >/dev/null && have_font; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing Debian chromium, chromium-driver and a CJK font (Chinese screenshots)"
  export DEBIAN_FRONTEND=noninteractive
  pkgs="chromium chromium-driver fonts-wqy-microhei"
  # shellcheck disable=SC2086
  apt-get install -y -q $pkgs >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q $pkgs >/dev/null; }
  exit 0
fi
exit 1
