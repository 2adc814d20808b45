// Package cli holds every loadgen subcommand's command line, one file
// each, each a command of a flag set bound to its configuration and a run
// function (command.go):
//
//	run.go       loadgen [run] --url …   flags bound to run.Config (+ world.go: the
//	             real-world-server flags; run_agents.go: --agents, --nats, …)
//	merge.go     loadgen merge           report.MergeParts
//	compare.go   loadgen compare         loadgen/compare
//	plot.go      loadgen plot            loadgen/plot
//	agent.go     loadgen agent           loadgen/shard/nats.Agent
//	worker.go    loadgen worker          loadgen/shard/pipe.WorkerMain (hidden, for --procs)
//
// The libraries behind them print nothing and exit nothing; output files
// and exit codes are decided here. The main package only picks the
// subcommand and handles signals.
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
