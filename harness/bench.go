package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/harness/bench"
)

// benchMain is `harness bench`. The bench starts this program again with
// the hidden subcommands below (its idle-connection holder and the floor
// step's two sides), as `harness bench SUBCOMMAND`.
func benchMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case bench.IdleCommand:
			return bench.IdleMain(ctx, args[1:], stdout, stderr, os.Stdin)
		case bench.FloorDrainCommand:
			return bench.FloorDrainMain(ctx, args[1:], stdout, stderr, os.Stdin)
		case bench.FloorWriteCommand:
			return bench.FloorWriteMain(ctx, args[1:], stdout, stderr)
		}
	}
	return benchRun(ctx, args, stdout, stderr)
}

func benchRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	quick := false
	for _, a := range args {
		if a == "--quick" {
			quick = true
		}
	}
	cfg := bench.Default()
	if quick {
		cfg = bench.Quick()
	}
	var commands []string
	fs, replot := benchFlags(&cfg, &commands, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "bench: %v (see --help)\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench: unexpected arguments %q (see --help)\n", fs.Args())
		return 2
	}
	for _, c := range commands {
		sc, err := bench.ParseServerCmd(c)
		if err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 2
		}
		cfg.Commands = append(cfg.Commands, sc)
	}
	if *replot != "" {
		if err := bench.Replot(*replot, bench.Env{Stderr: stderr}); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
		return 0
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	if err := bench.Run(ctx, cfg, bench.Env{Self: []string{self, "bench"}, Stderr: stderr, Stdout: stdout}); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

// benchFlags binds the flags of `harness bench` to cfg and commands (the
// --server values, parsed later); replot is --replot.
func benchFlags(cfg *bench.Config, commands *[]string, stderr io.Writer) (fs *pflag.FlagSet, replot *string) {
	fs = pflag.NewFlagSet("bench", pflag.ContinueOnError)
	fs.Bool("quick", false, "the small matrix of make bench-quick (about 3 min) instead of the default (about 25 min)")
	fs.StringVar(&cfg.Out, "out", "", "results directory (default results/<date>-<host>)")
	fs.StringSliceVar(&cfg.Servers, "servers", cfg.Servers, "servers to measure, in order: ours, node, the peers gorilla, nbio, gws, python (scripts/peers/), or a --server name")
	fs.StringArrayVar(commands, "server", nil, "NAME='COMMAND with {port}': also measure the server this shell command starts on 127.0.0.1:{port} (repeatable)")
	fs.IntSliceVar(&cfg.Clients, "clients", cfg.Clients, "matrix: client counts")
	fs.Float64SliceVar(&cfg.Rates, "rates", cfg.Rates, "matrix: broadcasts per second (across all senders)")
	fs.IntSliceVar(&cfg.Sizes, "sizes", cfg.Sizes, "matrix: payload sizes in bytes")
	fs.IntVar(&cfg.Senders, "senders", cfg.Senders, "matrix: publishing clients per run (0 = all)")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "matrix: measured time per run")
	fs.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "matrix: unmeasured time before it")
	fs.IntVar(&cfg.Repeat, "repeat", cfg.Repeat, "run the matrix this many times (gives loadgen compare a noise range)")
	fs.DurationVar(&cfg.SLO, "slo", cfg.SLO, "capacity: p99 must stay under this")
	fs.IntVar(&cfg.CapClients, "cap-clients", cfg.CapClients, "capacity: clients (the rate is searched)")
	fs.IntVar(&cfg.CapSize, "cap-size", cfg.CapSize, "capacity: payload bytes")
	fs.Float64Var(&cfg.CapStartRate, "cap-start-rate", cfg.CapStartRate, "capacity: first rate tried (broadcasts/s); doubled while steps pass")
	fs.IntVar(&cfg.CapMaxSteps, "cap-steps", cfg.CapMaxSteps, "capacity: most steps per server (0 skips the search)")
	fs.Float64Var(&cfg.CapTolerance, "cap-tolerance", cfg.CapTolerance, "capacity: stop bisecting when failing/passing rates are this close (fraction)")
	fs.DurationVar(&cfg.CapDuration, "cap-duration", cfg.CapDuration, "capacity: measured time per step")
	fs.DurationVar(&cfg.CapWarmup, "cap-warmup", cfg.CapWarmup, "capacity: warmup per step")
	fs.IntVar(&cfg.CapRepeat, "cap-repeat", cfg.CapRepeat, "capacity: searches per server (servers alternating); the capacity is their median, with min and max")
	fs.IntVar(&cfg.IdleConns, "idle-conns", cfg.IdleConns, "idle connections for memory per connection (0 skips)")
	fs.IntVar(&cfg.FloorSockets, "floor-sockets", cfg.FloorSockets, "floor: loopback sockets written to in turn (0 skips the floor)")
	fs.Float64SliceVar(&cfg.FloorRates, "floor-rates", cfg.FloorRates, "floor: writes per second to measure the bare write(2) at")
	fs.IntVar(&cfg.FloorFrame, "floor-frame", cfg.FloorFrame, "floor: bytes per write (66: the frame of a 64-byte message)")
	fs.IntVar(&cfg.ServerCPU, "server-cpu", cfg.ServerCPU, "CPU the server is pinned to")
	fs.IntVar(&cfg.LoadgenCPU, "loadgen-cpu", cfg.LoadgenCPU, "CPU the loadgen is pinned to")
	fs.BoolVar(&cfg.NoPin, "no-pin", cfg.NoPin, "do not pin with taskset")
	fs.DurationVar(&cfg.QuietWait, "quiet-wait", cfg.QuietWait, "on a shared machine, wait up to this long before each step for other processes to leave both CPUs (0 = don't)")
	fs.Float64Var(&cfg.QuietBelow, "quiet-below", cfg.QuietBelow, "with --quiet-wait: the busy fraction of each CPU that counts as quiet")
	fs.IntVar(&cfg.Nice, "nice", cfg.Nice, "run servers and loadgen at this niceness (e.g. -10 on a busy shared machine; negative needs root)")
	fs.StringArrayVar(&cfg.ServerArgs, "server-arg", cfg.ServerArgs, "extra flag for our server (repeatable), e.g. --server-arg=--send-queue=256")
	fs.StringVar(&cfg.ServerBin, "server-bin", "", "prebuilt server binary (default: go build ./server)")
	fs.StringVar(&cfg.LoadgenBin, "loadgen-bin", "", "prebuilt loadgen binary (default: go build ./loadgen)")
	fs.BoolVar(&cfg.Pprof, "pprof", cfg.Pprof, "after the capacity search, profile our server (--pprof) at its first failing rate into profile-ours.{pprof,txt}")
	fs.Float64Var(&cfg.Ramp, "ramp", cfg.Ramp, "loadgen --ramp, new connections per second (0 = its default)")
	replot = fs.String("replot", "", "only redraw plots and summary.md of an existing results directory from its runs.json")
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./harness bench [--quick] [--server NAME='COMMAND {port}']… [flags]\n\nMeasures servers one at a time on loopback — ours, the Node ws server, the\npeers under scripts/peers/ and any --server — with the server's CPU per\ndelivery: the bare-write floor, a clients × rate × size matrix, a capacity\nsearch at p99 < --slo, and memory per idle connection. Writes\nresults/<date>-<host>/. See harness/BENCH.md.\n\n%s\nExamples:\n  make bench-quick\n  make bench ARGS=\"--servers ours,gws --server mine='./mysrv --port {port}'\"\n  go run ./harness bench --servers ours --server uws='exec node uws.js {port}' --cap-steps 0\n", fs.FlagUsages())
	}
	return fs, replot
}
