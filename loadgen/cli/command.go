package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"
)

// command is one subcommand: its flags, bound to its configuration by the
// constructor in its own file (run.go, merge.go, compare.go, plot.go,
// agent.go, worker.go), and what it does with the parsed command line.
type command struct {
	flags *pflag.FlagSet // named "loadgen SUB"; nil: the subcommand takes no flags (worker)
	usage string         // printed before the flags by --help and after a usage error
	// hint, when set, follows a flag error instead of the whole usage
	// (the run command's flag list is too long to repeat).
	hint string
	run  func(ctx context.Context, args []string, io stdio) int // args: the positional arguments
}

// stdio is a subcommand's standard streams.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// commands maps each subcommand name to its constructor; a command is
// built anew for every call, so its flag values start at their defaults.
var commands = map[string]func() *command{
	"run":     runCmd,
	"merge":   mergeCmd,
	"compare": compareCmd,
	"plot":    plotCmd,
	"agent":   agentCmd,
	Worker:    workerCmd,
}

// Worker is the hidden subcommand that --procs starts for each worker
// process; it reads its share on stdin.
const Worker = "worker"

// Subcommand splits a command line into the subcommand's name and its
// arguments: the first argument unless it is a flag, else "run".
func Subcommand(args []string) (name string, rest []string) {
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		return args[0], args[1:]
	}
	return "run", args
}

// Main runs subcommand name with args and returns the process exit code.
// "help" is the run command's --help.
func Main(ctx context.Context, name string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if name == "help" {
		name, args = "run", []string{"--help"}
	}
	mk, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "loadgen: unknown subcommand %q; use run (default), merge, compare, plot or agent, or --help\n", name)
		return ExitUsage
	}
	return mk().main(ctx, args, stdio{in: stdin, out: stdout, err: stderr})
}

// main parses args into c's flags and runs c: --help prints the usage
// (exit 0), a flag error says what was wrong (exit 2).
func (c *command) main(ctx context.Context, args []string, io stdio) int {
	if c.flags == nil {
		return c.run(ctx, args, io)
	}
	if err := c.flags.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(io.out, c.usage+c.flags.FlagUsages())
			return ExitOK
		}
		if c.hint != "" {
			fmt.Fprintf(io.err, "%s: %v\n%s\n", c.flags.Name(), err, c.hint)
		} else {
			c.usageError(io, err)
		}
		return ExitUsage
	}
	return c.run(ctx, c.flags.Args(), io)
}

// usageError prints err, the usage and the flags on stderr.
func (c *command) usageError(io stdio, err error) {
	fmt.Fprintf(io.err, "%s: %v\n%s%s", c.flags.Name(), err, c.usage, c.flags.FlagUsages())
}

// newFlags returns a subcommand's empty flag set; errors are printed by
// command.main, not by pflag.
func newFlags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}
