#!/usr/bin/env bash
# Parse and validate docker/compose.yml with a real Compose implementation, as
# `docker compose up` would read it with docker/.env made from docker/.env.example, and
# check that it defines the production shape: postgres, redis, web, worker and beat.
#
# Uses `docker compose` (v2, the Compose Specification) when the plugin is installed,
# else Debian's docker-compose 1.29 (scripts/ensure-compose.sh installs it). 1.29 predates
# the top-level `name:` key; with it, that one key is checked here and the rest of the
# file by docker-compose. Skips (exit 0, says so) when neither is available.
set -euo pipefail
cd "$(dirname "$0")/.."

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose=(docker-compose)
else
  echo "compose check SKIPPED: neither 'docker compose' nor docker-compose is installed" \
       "(Debian: apt-get install docker-compose, or scripts/ensure-compose.sh as root)"
  exit 0
fi

# A copy of the tree compose reads (the file, the build context's Dockerfile and a
# docker/.env from the example), so the check never needs or touches a real docker/.env.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/docker"
cp docker/Dockerfile docker/entrypoint.sh "$work/docker/"
cp docker/.env.example "$work/docker/.env"

name="$(sed -n 's/^name:[[:space:]]*//p' docker/compose.yml)"
if [ "${compose[0]}" = "docker-compose" ]; then
  if [ -n "$name" ] && ! [[ "$name" =~ ^[a-z0-9][a-z0-9_-]*$ ]]; then
    echo "docker/compose.yml: project name '$name' must be lower-case letters, digits, '-' and '_'" >&2
    exit 1
  fi
  grep -v '^name:' docker/compose.yml > "$work/docker/compose.yml"
else
  cp docker/compose.yml "$work/docker/compose.yml"
fi

version="$("${compose[@]}" version --short 2>/dev/null || "${compose[@]}" version | head -n1)"
(cd "$work/docker" && "${compose[@]}" --env-file .env -f compose.yml config --quiet)
services="$(cd "$work/docker" && "${compose[@]}" --env-file .env -f compose.yml config --services | sort | tr '\n' ' ')"
if [ "$services" != "beat postgres redis web worker " ]; then
  echo "docker/compose.yml: expected services beat postgres redis web worker, found: $services" >&2
  exit 1
fi
echo "compose check OK (${compose[*]} $version): services $services${name:+, project $name}"
