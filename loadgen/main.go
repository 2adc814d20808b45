// Command loadgen is wsbench's WebSocket broadcast load generator. See
// README.md; `loadgen --help` lists the flags. The subcommands, each with
// its flags, live in loadgen/cli; this file only handles signals.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/wsbench/wsbench/loadgen/cli"
)

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

func dispatch(args []string) int {
	sub, rest := cli.Subcommand(args)
	// SIGINT/SIGTERM end the run early; a second signal kills the process,
	// except in a worker, which gets Ctrl-C from the terminal and again
	// from its coordinator and must still write its result.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if sub != cli.Worker {
		go func() {
			<-ctx.Done()
			stop() // restore default handling: the next Ctrl-C exits at once
		}()
	}
	return cli.Main(ctx, sub, rest, os.Stdin, os.Stdout, os.Stderr)
}
