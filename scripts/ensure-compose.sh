#!/usr/bin/env bash
# The compose check (scripts/check-compose.sh) parses docker/compose.yml with a real Compose
# implementation: Docker's `docker compose` plugin where it is installed, else Debian's
# docker-compose package, installed here when missing (root with apt only).
set -euo pipefail
if docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing Debian docker-compose (the compose file check)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q docker-compose >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q docker-compose >/dev/null; }
  exit 0
fi
exit 1
