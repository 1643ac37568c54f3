#!/usr/bin/env bash
# bench-dwn.sh: run `anya bench dwn` against an anya node and against
# @web5/dwn-server 0.6.1 on 127.0.0.1, and print both and their ratio.
#
#   scripts/bench-dwn.sh [WRITES] [CONCURRENCY] [QUERIES]
#
# dwn-server is installed from npm into $DWN_SERVER_CACHE (default
# ~/.cache/anya/dwn-server-0.6.1), outside the repository; the first
# install compiles better-sqlite3 and takes several minutes (docs dwn.md §9).
# DWN_STORAGE is left unset on purpose (§6.6: it would turn registration on).
set -euo pipefail

WRITES=${1:-2000}
CONC=${2:-16}
QUERIES=${3:-200}
ANYA_PORT=${ANYA_PORT:-7950}
DS_PORT=${DS_PORT:-3999}
CACHE=${DWN_SERVER_CACHE:-$HOME/.cache/anya/dwn-server-0.6.1}
REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/anya-bench-dwn.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

wait_health() { # URL NAME LOG
	for _ in $(seq 600); do
		curl -fs "$1/health" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "$2 did not become healthy; log:" >&2
	tail -50 "$3" >&2
	exit 1
}

echo "== building anya"
(cd "$REPO" && go build -o "$WORK/anya" ./cmd/anya)
ANYA=$WORK/anya

echo "== installing @web5/dwn-server@0.6.1 into $CACHE (slow the first time)"
mkdir -p "$CACHE"
if [ ! -x "$CACHE/node_modules/.bin/dwn-server" ]; then
	(cd "$CACHE" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund @web5/dwn-server@0.6.1)
fi
if ! (cd "$CACHE" && node -e "new (require('better-sqlite3'))(':memory:')" 2>/dev/null); then
	echo "== rebuilding better-sqlite3"
	(cd "$CACHE/node_modules/better-sqlite3" && npx --yes node-gyp rebuild --release --nodedir=/usr)
fi

echo "== persona"
"$ANYA" bench dwn --url http://127.0.0.1:1 --persona "$WORK/persona" --tenant-file "$WORK/tenant" --writes 0 --queries 0 >/dev/null
TENANT=$(cat "$WORK/tenant")
echo "tenant: $TENANT"

echo "== starting anya on 127.0.0.1:$ANYA_PORT"
export ANYA_PASSPHRASE=bench-dwn
"$ANYA" --data "$WORK/anya-data" daemon --api-addr "127.0.0.1:$ANYA_PORT" \
	--p2p-listen /ip4/127.0.0.1/tcp/0 --dwn-tenants "$TENANT" >"$WORK/anya.log" 2>&1 &
PIDS+=($!)
wait_health "http://127.0.0.1:$ANYA_PORT" anya "$WORK/anya.log"

echo "== starting dwn-server on 127.0.0.1:$DS_PORT"
mkdir -p "$WORK/ds"
(cd "$WORK/ds" && unset DWN_STORAGE && DS_PORT=$DS_PORT exec "$CACHE/node_modules/.bin/dwn-server") >"$WORK/ds.log" 2>&1 &
PIDS+=($!)
wait_health "http://127.0.0.1:$DS_PORT" dwn-server "$WORK/ds.log"

run() { # NAME URL
	echo "== $1" >&2
	"$ANYA" bench dwn --url "$2" --persona "$WORK/persona" --writes "$WRITES" --concurrency "$CONC" --queries "$QUERIES" --json 2>/dev/null
}
run anya "http://127.0.0.1:$ANYA_PORT" >"$WORK/anya.json"
run dwn-server "http://127.0.0.1:$DS_PORT" >"$WORK/ds.json"

python3 - "$WORK/anya.json" "$WORK/ds.json" <<'PY'
import json, sys
a, d = (json.load(open(p)) for p in sys.argv[1:3])
def row(name, r):
    u = r.get("unexpected") or {}
    bad = " ".join(f"{k}x{v}" for k, v in sorted(u.items())) or "-"
    return f"{name:<11}{r['perSecond']:>10.1f}/s  p50 {r['p50Ms']:>8.2f}  p95 {r['p95Ms']:>8.2f}  p99 {r['p99Ms']:>8.2f} ms  ok {r['ok']:>6}  unexpected {bad}"
for phase in ("writes", "queries"):
    if phase not in a or phase not in d:
        continue
    print(f"{phase} (n={a[phase]['count']}, concurrency={a[phase]['concurrency']})")
    print("  " + row("anya", a[phase]))
    print("  " + row("dwn-server", d[phase]))
    ratio = a[phase]["perSecond"] / d[phase]["perSecond"] if d[phase]["perSecond"] else float("inf")
    p50 = d[phase]["p50Ms"] / a[phase]["p50Ms"] if a[phase]["p50Ms"] else float("inf")
    print(f"  ratio anya/dwn-server: {ratio:.1f}x throughput, {p50:.1f}x lower p50")
PY
