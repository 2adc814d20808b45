#!/usr/bin/env bash
# Builds the gobwas-echo peer server into bin/gobwas-echo. Its modules come
# from the Go module proxy on first use (go.sum pins them); a rerun is
# instant (build cache).
set -euo pipefail
cd "$(dirname "$0")"
go build -trimpath -o bin/gobwas-echo .
