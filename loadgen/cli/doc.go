// Package cli holds the loadgen's command lines: flag sets bound to
// run.Config, the run and merge subcommands, output files and exit codes.
// The main package only picks the subcommand and handles signals.
package cli

// Exit codes of the loadgen (the contract of shared/contracts.md).
const (
	ExitOK           = 0 // run completed within its thresholds
	ExitThreshold    = 1 // a threshold (--max-p99, --max-loss) was exceeded, or output could not be written
	ExitUsage        = 2 // bad flags or arguments
	ExitNoConnection = 3 // not one connection could be established
	ExitInvalid      = 4 // the run did not measure what it was asked to (report.Judge): it proves nothing either way
	// ExitInterrupted is 128+SIGINT, as a shell reports a process ended by
	// Ctrl-C; the report of what was measured is still written.
	ExitInterrupted = 130
)
