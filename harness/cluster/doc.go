// Package cluster measures wsbench's scale-out over NATS on this machine
// (make bench-cluster, `harness cluster`), in three parts:
//
//   - scale: the same load against 1 node, 2 nodes and 3 nodes sharing one
//     port (SO_REUSEPORT, NATS embedded in node 1); ratios against 1 node
//     and the nodes' CPU seconds.
//   - cross: one run over 2 nodes on their own ports with 2 loadgen
//     agents: agent 1 sends and receives on node A (local path), agent 2
//     only receives on node B (every message crosses NATS): p50/p99 with
//     and without NATS in the path, same load, same run.
//   - big: 51,000 clients over 3 nodes (17,000 each, --max-conns 19900)
//     and 3 agents (over 127.0.0.2-127.0.0.7), merged into one report.
//
// Nodes are started and stopped by harness/target; agents and runs are
// the loadgen binary (loadgen agent, loadgen --agents). On 2 cores the
// nodes, NATS and the generators share the CPUs, so more nodes cannot add
// capacity here: the scale part shows the cost of the bus, not the gain
// of more machines. WriteSummary turns the reports into summary.md.
package cluster
