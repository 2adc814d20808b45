// Command harness drives wsbench's programs against a server under test on
// this machine: each subcommand starts (or is pointed at) a server, loads or
// attacks it, observes it through harness/target and writes a report.
//
//	harness bench    the benchmark matrix (make bench, make bench-quick)
//	harness abuse    hostile-input and fault scenarios (make abuse)
//	harness soak     steady broadcast, RSS/goroutine drift (make soak)
//	harness cluster  1 vs 2 vs 3 nodes over NATS, 51k clients (make bench-cluster)
//
// Each subcommand's flags sit in its own file here (bench.go, abuse.go,
// soak.go, cluster.go); its logic lives in the package of the same name.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand: run gets the arguments after its name and
// returns the exit code.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{
	"bench":   {"the benchmark matrix: ours vs Node ws and the peers, CPU per delivery (make bench)", benchMain},
	"abuse":   {"hostile-input and fault scenarios against a chat-room server (make abuse)", abuseMain},
	"soak":    {"steady broadcast for a long time; server RSS and goroutine drift (make soak)", soakMain},
	"cluster": {"1 vs 2 vs 3 server nodes over NATS, cross-node latency, 51k clients (make bench-cluster)", clusterMain},
}

var order = []string{"bench", "abuse", "soak", "cluster"}

func main() { os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr)) }

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "harness: unknown subcommand %q; use bench, abuse, soak or cluster (harness --help)\n", args[0])
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: go run ./harness SUBCOMMAND [flags]   (SUBCOMMAND --help for its flags)\n\n")
	for _, name := range order {
		fmt.Fprintf(w, "  %-8s %s\n", name, commands[name].summary)
	}
	fmt.Fprintf(w, "\nSee harness/README.md.\n")
}
