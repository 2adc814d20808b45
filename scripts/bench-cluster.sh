#!/usr/bin/env bash
# make bench-cluster: wsbench's scale-out over NATS on this machine.
#   1. scale: the same load against 1 node, 2 nodes and 3 nodes sharing one
#      port (SO_REUSEPORT, NATS embedded in node 1); ratios against 1 node.
#   2. cross: one run over 2 nodes on their own ports with 2 agents: agent A
#      sends and receives on node A (local path), agent B only receives on
#      node B (every message crosses NATS): p50/p99 with and without NATS in
#      the path, same load, same run.
#   3. big: 51,000 clients over 3 nodes (17,000 each, --max-conns 19900) and
#      3 agents (17,000 each, over 127.0.0.2-127.0.0.7), merged into one report.
# The machine has 2 cores: nodes, NATS and the generators share them, so
# more nodes cannot add capacity here; the scale runs show the cost of the
# bus, not the gain of more machines. Takes about 2 minutes.
# Settings (environment): OUT (results dir), SKIP (e.g. "big"), SCALE_CLIENTS,
# SCALE_RATE, CROSS_CLIENTS, CROSS_RATE, BIG_CLIENTS, BIG_RATE, DURATION,
# SERVER_BIN, LOADGEN_BIN (prebuilt binaries instead of building).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-results/cluster-$(date -u +%Y%m%dT%H%M%SZ)}
SKIP=${SKIP:-}
DURATION=${DURATION:-10s}
SCALE_CLIENTS=${SCALE_CLIENTS:-1000}
SCALE_RATE=${SCALE_RATE:-50}
CROSS_CLIENTS=${CROSS_CLIENTS:-1000}
CROSS_RATE=${CROSS_RATE:-20}
BIG_CLIENTS=${BIG_CLIENTS:-51000}
BIG_RATE=${BIG_RATE:-1}
mkdir -p "$OUT"

tmp=$(mktemp -d)
pids=()
stop_all() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
}
cleanup() { stop_all; rm -rf "$tmp"; }

# cpu_of PID…: user+system CPU seconds of the processes, summed.
cpu_of() {
	local p total=0 t
	for p in "$@"; do
		t=$(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0)
		total=$((total + t))
	done
	awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", t/hz}'
}
trap cleanup EXIT

SERVER=${SERVER_BIN:-$tmp/server}
LOADGEN=${LOADGEN_BIN:-$tmp/loadgen}
[[ -n "${SERVER_BIN:-}" ]] || go build -o "$SERVER" ./server
[[ -n "${LOADGEN_BIN:-}" ]] || go build -o "$LOADGEN" ./loadgen

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_node LOG PORT ARGS…: starts a server node and waits for /healthz.
start_node() {
	local log=$1 port=$2
	shift 2
	"$SERVER" --addr "127.0.0.1:$port" --shutdown-grace 2s "$@" >"$log" 2>&1 &
	local pid=$!
	pids+=("$pid")
	for _ in $(seq 100); do
		curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || { echo "bench-cluster: node did not start:"; cat "$log"; exit 3; }
		sleep 0.1
	done
	echo "bench-cluster: node on $port not healthy after 10s"; cat "$log"; exit 3
}

# start_agents N NATS DIR: starts N loadgen agents.
start_agents() {
	local n=$1 nats=$2 dir=$3 i
	mkdir -p "$dir"
	for i in $(seq "$n"); do
		"$LOADGEN" agent --nats "$nats" --id "agent$i" --reports "$dir" >"$OUT/agent$i-$(basename "$dir").log" 2>&1 &
		pids+=("$!")
	done
}

# nodes K PORT MAXCONNS: K nodes sharing PORT, NATS embedded in node 1.
nodes() {
	local k=$1 port=$2 maxc=$3 i
	nats_port=$(free_port)
	NATS_URL=nats://127.0.0.1:$nats_port
	start_node "$OUT/node1-$k.log" "$port" --reuse-port --nats-embed "127.0.0.1:$nats_port" --max-conns "$maxc"
	for i in $(seq 2 "$k"); do
		start_node "$OUT/node$i-$k.log" "$port" --reuse-port --cluster "$NATS_URL" --max-conns "$maxc"
	done
}

common=(--duration "$DURATION" --warmup 2s --drain 3s --size 64 --max-send-lag 50ms -q)

if [[ $SKIP != *scale* ]]; then
	for k in 1 2 3; do
		port=$(free_port)
		if [[ $k == 1 ]]; then
			start_node "$OUT/node1-1.log" "$port" --max-conns 19900
		else
			nodes "$k" "$port" 19900
		fi
		echo "bench-cluster: scale $k node(s): $SCALE_CLIENTS clients, $SCALE_RATE broadcasts/s"
		"$LOADGEN" --url "ws://127.0.0.1:$port/scale" --clients "$SCALE_CLIENTS" --senders 20 --rate "$SCALE_RATE" \
			--ramp 2000 "${common[@]}" --out "$OUT/scale-$k.json" || echo "bench-cluster: loadgen exit $? (see report)"
		cpu_of "${pids[@]}" >"$OUT/scale-$k.cpu"
		stop_all
	done
fi

if [[ $SKIP != *cross* ]]; then
	pa=$(free_port) pb=$(free_port) np=$(free_port)
	start_node "$OUT/nodeA-cross.log" "$pa" --nats-embed "127.0.0.1:$np"
	start_node "$OUT/nodeB-cross.log" "$pb" --cluster "nats://127.0.0.1:$np"
	start_agents 2 "nats://127.0.0.1:$np" "$OUT/cross"
	echo "bench-cluster: cross-node latency: $CROSS_CLIENTS clients, $CROSS_RATE broadcasts/s, senders on node A"
	"$LOADGEN" --agents 2 --nats "nats://127.0.0.1:$np" --url "ws://127.0.0.1:$pa/cross" \
		--agent-urls "ws://127.0.0.1:$pa/cross,ws://127.0.0.1:$pb/cross" --sender-agents 1 \
		--clients "$CROSS_CLIENTS" --senders 10 --rate "$CROSS_RATE" --ramp 2000 "${common[@]}" \
		--out "$OUT/cross.json" || echo "bench-cluster: loadgen exit $? (see report)"
	stop_all
fi

if [[ $SKIP != *big* ]]; then
	port=$(free_port)
	nodes 3 "$port" 19900
	start_agents 3 "$NATS_URL" "$OUT/big"
	echo "bench-cluster: $BIG_CLIENTS clients over 3 nodes and 3 agents, $BIG_RATE broadcasts/s"
	"$LOADGEN" --agents 3 --nats "$NATS_URL" --url "ws://127.0.0.1:$port/big" --source-ips 127.0.0.2-127.0.0.7 \
		--clients "$BIG_CLIENTS" --senders 30 --rate "$BIG_RATE" --ramp 5000 --connect-timeout 20s \
		--duration "$DURATION" --warmup 3s --drain 10s --size 64 --max-send-lag 200ms -q \
		--out "$OUT/big.json" || echo "bench-cluster: loadgen exit $? (see report)"
	stop_all
fi

python3 - "$OUT" <<'PY' | tee "$OUT/summary.md"
import json, os, sys, glob
out = sys.argv[1]
def load(p):
    try:
        with open(p) as f: return json.load(f)
    except Exception: return None
def row(name, r, part=False):
    if r is None: return f"| {name} | (no report) |||||||"
    m, l = r["messages"], r["latency_ms"]
    lost = "—" if part else m["lost"]  # an agent's report only counts what its own senders owed
    return (f"| {name} | {r['connections']['established']} | {m['sent']} | {m['delivered']} | {lost} | "
            f"{r['throughput']['delivered_per_s']:.0f} | {l['p50']:.2f} | {l['p99']:.2f} | {l['max']:.1f} |")
hdr = "| run | conns | sent | delivered | lost | delivered/s | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|---|---|"
print(f"# bench-cluster ({os.uname().nodename}, {os.cpu_count()} cores)\n")
s = [load(f"{out}/scale-{k}.json") for k in (1, 2, 3)]
if any(s):
    print("## Scale: same load, 1 vs 2 vs 3 nodes on one port (SO_REUSEPORT)\n")
    print(hdr)
    for k, r in zip((1, 2, 3), s): print(row(f"{k} node(s)", r))
    cpu = {}
    for k in (1, 2, 3):
        try: cpu[k] = float(open(f"{out}/scale-{k}.cpu").read())
        except Exception: pass
    if cpu:
        print("\nServer CPU seconds for the whole run (all nodes, embedded NATS included): " + ", ".join(f"{k} node(s) {v:.1f} s" for k, v in cpu.items()))
    if s[0]:
        b = s[0]
        print("\nRatios against 1 node (delivered/s, p50, p99):")
        for k, r in zip((2, 3), s[1:]):
            if r:
                f = lambda a, c: (a / c) if c else float("nan")
                print(f"- {k} nodes: {f(r['throughput']['delivered_per_s'], b['throughput']['delivered_per_s']):.2f}× delivered/s, "
                      f"{f(r['latency_ms']['p50'], b['latency_ms']['p50']):.2f}× p50, {f(r['latency_ms']['p99'], b['latency_ms']['p99']):.2f}× p99")
    print("\n2 cores run every node, NATS and the generator: more nodes add bus work, not CPU.\n")
c = load(f"{out}/cross.json")
if c:
    print("## Cross-node latency: one run, senders on node A\n")
    print(hdr)
    for p in sorted(glob.glob(f"{out}/cross/*.json")):
        r = load(p)
        if r is None: continue
        path = "node A (local, no NATS)" if r["config"]["senders"] > 0 else "node B (every message via NATS)"
        print(row(path, r, True))
    print(row("merged", c))
    print("\n(lost is only meaningful merged: each agent's report counts what its own senders owed)")
    for a in c.get("generator", {}).get("agents", []) or []:
        print(f"\n- {a['id']}: clock offset {a['clock_offset_ms']:+.3f} ms ± {a['offset_bound_ms']:.3f} ms")
    print()
b = load(f"{out}/big.json")
if b:
    print("## Big: clients over 3 nodes and 3 agents, one merged report\n")
    print(hdr)
    for p in sorted(glob.glob(f"{out}/big/*.json")):
        print(row(os.path.basename(p).split("-", 1)[1].removesuffix(".json"), load(p), True))
    print(row("merged", b))
    w = b.get("generator", {}).get("warnings") or []
    if w: print("\nWarnings:\n" + "\n".join(f"- {x}" for x in w))
PY
echo "bench-cluster: results in $OUT"
