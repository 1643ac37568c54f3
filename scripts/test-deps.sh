#!/usr/bin/env bash
# Installs what `make test` needs on a fresh Debian machine, skipping what is
# already there: Node.js and npm (for the outside implementations the
# conformance tests run), and the npm packages each conformance area pins.
# PostgreSQL is installed and started by scripts/postgres.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
command -v node >/dev/null 2>&1 || apt_packages+=(nodejs)
command -v npm >/dev/null 2>&1 || apt_packages+=(npm)
if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "test-deps: installing ${apt_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${apt_packages[@]}"
fi

for lock in $(find conformance -name package-lock.json -not -path '*/node_modules/*' | sort); do
  dir=$(dirname "$lock")
  if [ ! -d "$dir/node_modules" ] || [ "$lock" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "test-deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
