#!/usr/bin/env bash
# Builds the reference server and the conformance suite, starts the server on
# a free loopback port with known heartbeat settings, runs every case
# (browser cases included unless NO_BROWSER=1) and stops the server.
# Extra arguments go to the conformance command.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin results
go build -o bin/ ./server ./conformance

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ping=1s
pong=3s
maxmsg=16777216
maxconns=200
# Any port of the loopback origins: the browser lane's probe page is served
# on a port of its own. HS-10 checks that http://evil.example gets 403.
bin/server --addr "127.0.0.1:$port" --ping-interval "$ping" --pong-timeout "$pong" \
	--max-message "$maxmsg" --max-conns "$maxconns" --deflate \
	--origins "http://127.0.0.1:*,http://localhost:*" \
	>results/conformance-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
	curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done

browser=--browser
[ "${NO_BROWSER:-0}" = 1 ] && browser=
bin/conformance --url "ws://127.0.0.1:$port/" $browser \
	--ping-interval "$ping" --pong-timeout "$pong" --max-message "$maxmsg" --relaxed --deflate \
	--max-conns "$maxconns" --forbidden-origin "http://evil.example" \
	--junit results/conformance.xml --json results/conformance.json \
	--report-dir results/conformance-report --agent wsbench-server "$@"
