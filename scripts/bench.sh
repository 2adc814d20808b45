#!/usr/bin/env bash
# make bench / make bench-quick: the benchmark matrix of our server against
# the Node ws chat-room server. Flags go to the bench program
# (go run ./scripts/bench --help); see scripts/BENCH.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/node-ws/install.sh
exec go run ./scripts/bench "$@"
