#!/usr/bin/env bash
# make abuse: hostile-input and fault scenarios (harness/abuse) against a
# chat-room server on this machine.
#   URL unset: builds our server; the abuse program starts it on a free
#              loopback port pinned to CPU 0 (GOMAXPROCS=1) and runs itself,
#              its attacker and its probe on CPU 1, as make bench does
#              (harness/bench), with --max-conns 10100 (room for the 10,000
#              slow readers plus the probes) and --max-pending 10500 (room
#              for the slowloris scenario's 10,000 stalled connections: a
#              flood larger than --max-pending is turned over as fast as the
#              server can close, and newcomers queue behind it in the
#              kernel's accept queue; see SECURITY.md). No scenario fills
#              both at once, so the server stays under 20,000 descriptors.
#              It samples the server's RSS and stops it afterwards.
#   URL=ws://127.0.0.1:PORT/ [SERVER_PID=pid]: abuses that server instead
#              (not pinned).
#   NICE=-10: run server and abuse program at that niceness (root only).
# Extra arguments go to the abuse program (go run ./harness abuse --help).
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/harness" ./harness

if [[ -z "${URL:-}" ]]; then
	go build -o "$tmp/server" ./server
	log=${SERVER_LOG:-$tmp/server.log}
	exec_args=(--server-bin "$tmp/server" --server-log "$log"
		--server-args "--max-conns 10100 --max-pending 10500 --shutdown-grace 2s")
	if [[ -n "${NICE:-}" ]]; then
		exec_args+=(--nice "$NICE")
	fi
	echo "abuse.sh: our server's log goes to $log"
	"$tmp/harness" abuse "${exec_args[@]}" "$@"
elif [[ -n "${SERVER_PID:-}" ]]; then
	"$tmp/harness" abuse --url "$URL" --server-pid "$SERVER_PID" "$@"
else
	"$tmp/harness" abuse --url "$URL" "$@"
fi
