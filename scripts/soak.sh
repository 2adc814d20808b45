#!/usr/bin/env bash
# make soak: our server plus a steady loadgen broadcast for $SOAK (default
# 10m), sampling the server's RSS and goroutines every 10 s; writes
# results/soak-<date>.md and exits 1 on loss or drift.
#   SOAK=3m scripts/soak.sh
# Extra arguments go to the soak program (go run ./harness soak --help),
# e.g. --clients 500 --rate 500.
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK=${SOAK:-10m}

tmp=$(mktemp -d)
server_pid=""
cleanup() {
	if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/" ./server ./loadgen
go build -o "$tmp/" ./harness
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$tmp/server" --addr "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
	curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
	kill -0 "$server_pid" 2>/dev/null || { echo "soak.sh: server did not start:"; cat "$tmp/server.log"; exit 3; }
	sleep 0.1
done
echo "soak.sh: server pid $server_pid on 127.0.0.1:$port, soaking for $SOAK"
"$tmp/harness" soak --url "ws://127.0.0.1:$port/soak" --server-pid "$server_pid" --loadgen "$tmp/loadgen" --duration "$SOAK" "$@"
