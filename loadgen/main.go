// Command loadgen is wsbench's WebSocket broadcast load generator. See
// README.md; `loadgen --help` lists the flags.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/wsbench/wsbench/loadgen/cli"
	"github.com/wsbench/wsbench/loadgen/compare"
	"github.com/wsbench/wsbench/loadgen/plot"
	"github.com/wsbench/wsbench/loadgen/shard/nats"
	"github.com/wsbench/wsbench/loadgen/shard/pipe"
)

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

func dispatch(args []string) int {
	sub, rest := "run", args
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		sub, rest = args[0], args[1:]
	}
	// SIGINT/SIGTERM end the run early; a second signal kills the process,
	// except in a worker, which gets Ctrl-C from the terminal and again
	// from its coordinator and must still write its result.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if sub != "worker" {
		go func() {
			<-ctx.Done()
			stop() // restore default handling: the next Ctrl-C exits at once
		}()
	}
	switch sub {
	case "run":
		return cli.Run(ctx, rest, os.Stdout, os.Stderr)
	case "help":
		return cli.Run(ctx, []string{"--help"}, os.Stdout, os.Stderr)
	case "merge":
		return cli.Merge(rest, os.Stdout, os.Stderr)
	case "agent":
		return nats.Main(ctx, rest, os.Stdout, os.Stderr)
	case "worker": // hidden: started by --procs
		return pipe.WorkerMain(ctx, os.Stdin, os.Stdout, os.Stderr)
	case "compare":
		return compare.Main(rest, os.Stdout, os.Stderr)
	case "plot":
		return plot.Main(rest, os.Stdout, os.Stderr)
	default:
		fmt.Fprintf(os.Stderr, "loadgen: unknown subcommand %q; use run (default), merge, compare, plot or agent, or --help\n", sub)
		return cli.ExitUsage
	}
}
