package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/harness/cluster"
)

// clusterMain is `harness cluster` (make bench-cluster): 1 vs 2 vs 3
// server nodes over NATS, cross-node latency, and the 51k-client run.
func clusterMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg := cluster.Default()
	fs := pflag.NewFlagSet("harness cluster", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Out, "out", cluster.DefaultOut(time.Now()), "results directory")
	fs.StringSliceVar(&cfg.Skip, "skip", nil, "parts to leave out, comma separated: scale, cross, big")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "measured time of every loadgen run")
	fs.IntVar(&cfg.ScaleClients, "scale-clients", cfg.ScaleClients, "scale: clients (20 of them send)")
	fs.Float64Var(&cfg.ScaleRate, "scale-rate", cfg.ScaleRate, "scale: broadcasts per second")
	fs.IntVar(&cfg.CrossClients, "cross-clients", cfg.CrossClients, "cross: clients over both agents (10 senders, all on node A)")
	fs.Float64Var(&cfg.CrossRate, "cross-rate", cfg.CrossRate, "cross: broadcasts per second")
	fs.IntVar(&cfg.BigClients, "big-clients", cfg.BigClients, "big: clients over 3 nodes and 3 agents (30 send)")
	fs.Float64Var(&cfg.BigRate, "big-rate", cfg.BigRate, "big: broadcasts per second")
	fs.StringVar(&cfg.ServerBin, "server-bin", "", "prebuilt server binary (default: go build ./server)")
	fs.StringVar(&cfg.LoadgenBin, "loadgen-bin", "", "prebuilt loadgen binary (default: go build ./loadgen)")
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./harness cluster [flags]\n\nScale-out over NATS on this machine: the same load against 1, 2 and 3 server\nnodes on one port (SO_REUSEPORT); cross-node latency with 2 nodes and 2\nloadgen agents (senders on node A, a receiver on node B behind NATS); and\n51,000 clients over 3 nodes and 3 agents. Writes the loadgen reports, node\nand agent logs and summary.md into --out. About 2 minutes.\n\n%s\nExamples:\n  make bench-cluster\n  make bench-cluster ARGS=\"--skip big\"\n  go run ./harness cluster --skip cross,big --scale-clients 100 --duration 3s\n", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "harness cluster: see --help")
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "harness cluster: unexpected arguments %q; all settings are flags (see --help)\n", fs.Args())
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "harness cluster: %v\n", err)
		return 2
	}
	if err := cluster.Run(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "harness cluster: %v\n", err)
		return 1
	}
	return 0
}
