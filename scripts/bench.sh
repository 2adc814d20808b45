#!/usr/bin/env bash
# make bench / make bench-quick: the benchmark matrix of our server against
# the Node ws chat-room server and the peers under scripts/peers/ (the bench
# program runs each measured peer's install.sh first and stops if one
# fails). Flags go to the bench program (go run ./scripts/bench --help;
# make bench ARGS="..."); see scripts/BENCH.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/node-ws/install.sh
exec go run ./scripts/bench "$@"
