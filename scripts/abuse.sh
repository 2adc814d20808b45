#!/usr/bin/env bash
# make abuse: hostile-input and fault scenarios (internal/abuse) against a
# chat-room server on this machine.
#   URL unset: builds our server, starts it on a free loopback port with
#              --max-conns 15000 (room for the 10,000 slow readers plus the
#              probe) and --pprof off, samples its RSS, stops it afterwards.
#   URL=ws://127.0.0.1:PORT/ [SERVER_PID=pid]: abuses that server instead.
# Extra arguments go to the abuse program (go run ./scripts/abuse --help).
set -euo pipefail
cd "$(dirname "$0")/.."

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

go build -o "$tmp/abuse" ./scripts/abuse

pid_args=()
if [[ -z "${URL:-}" ]]; then
	go build -o "$tmp/server" ./server
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	log=${SERVER_LOG:-$tmp/server.log}
	"$tmp/server" --addr "127.0.0.1:$port" --max-conns 15000 --shutdown-grace 2s >"$log" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do
		curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
		kill -0 "$server_pid" 2>/dev/null || { echo "abuse.sh: server did not start:"; cat "$log"; exit 3; }
		sleep 0.1
	done
	URL="ws://127.0.0.1:$port/"
	pid_args=(--server-pid "$server_pid")
	echo "abuse.sh: started our server (pid $server_pid) at $URL; log in $log"
elif [[ -n "${SERVER_PID:-}" ]]; then
	pid_args=(--server-pid "$SERVER_PID")
fi

rc=0
"$tmp/abuse" --url "$URL" "${pid_args[@]}" "$@" || rc=$?
if [[ -n "$server_pid" ]] && ! kill -0 "$server_pid" 2>/dev/null; then
	echo "abuse.sh: the server process died during the run"
	rc=1
fi
exit $rc
