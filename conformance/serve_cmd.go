package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
	"github.com/wsbench/wsbench/conformance/serve"
)

// runServe is `conformance serve`: the suite is the server and judges the
// client that connects to it.
func runServe(args []string) int {
	cfg := serve.DefaultConfig()
	fs := pflag.NewFlagSet("conformance serve", pflag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (host:port; port 0 picks one)")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "bound of the whole run, waiting for the client included")
	fs.StringVar(&cfg.Run, "run", "", "print only cases whose ID (or \"ID title\") matches this regexp")
	fs.BoolVar(&cfg.List, "list", false, "print the catalogue of client cases (id, group, ref, title) and exit")
	fs.DurationVar(&cfg.Idle, "idle", cfg.Idle, "phase idle: how long the first connection stays idle while the suite pings")
	fs.DurationVar(&cfg.PingEvery, "ping-every", cfg.PingEvery, "the suite's ping period; a pong must come back within it")
	fs.IntVar(&cfg.Attempts, "attempts", cfg.Attempts, "phase drops: attempts dropped in a row (3-20)")
	fs.DurationVar(&cfg.MaxDelay, "max-delay", cfg.MaxDelay, "longest wait for the client's next attempt (its backoff cap must be below)")
	fs.DurationVar(&cfg.RetryAfter, "retry-after", cfg.RetryAfter, "phase refused: the Retry-After of the 503 (whole seconds)")
	fs.DurationVar(&cfg.HeartbeatBound, "heartbeat-bound", cfg.HeartbeatBound, "phase frozen: the client must give up a silent connection within this")
	fs.DurationVar(&cfg.Stable, "stable", cfg.Stable, "phase stable: uptime after which the client's backoff must have reset")
	fs.DurationVar(&cfg.CloseWait, "close-wait", cfg.CloseWait, "phase last: wait this long for the client's own close, then send close 4000")
	fs.DurationVar(&cfg.Quiet, "quiet", cfg.Quiet, "after the last close the client must stay away this long (at least 1.5× its longest delay)")
	fs.StringVar(&cfg.JUnit, "junit", "", "write JUnit XML to this file")
	fs.StringVar(&cfg.JSON, "json", "", "write a JSON report to this file")
	fs.StringVar(&cfg.ReportDir, "report-dir", "", "write Autobahn-shaped reports here: index.json, one JSON file per case, index.html")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: conformance serve [--addr 127.0.0.1:9001] [flags]\n\n"+
			"Point a reconnecting client at ws://ADDR/session/AGENT; the suite drops, refuses,\n"+
			"freezes and closes its connections and judges what it does (cases CR-01..CR-11).\n"+
			"Point an echoing client's Autobahn test driver at ws://ADDR (/getCaseCount, /runCase?case=N&agent=A,\n"+
			"/getCaseStatus, /updateReports?agent=A): protocol cases CP-01..CP-26. The run ends with the\n"+
			"behaviour session, with /updateReports, or at --timeout.\n\nFlags:\n%s\nExamples:\n"+
			"  conformance serve --addr 127.0.0.1:9001\n"+
			"  conformance serve --json results/client.json --heartbeat-bound 40s   # a client with a 30 s heartbeat\n"+
			"  conformance serve --report-dir results/client   # then: node scripts/clients/autobahn-client.js ws://127.0.0.1:9001\n", fs.FlagUsages())
	}
	if code, ok := parseFlags(fs, args, "conformance serve", "see --help"); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	entries, err := serve.Run(ctx, cfg, os.Stdout, func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) })
	return exitCode("conformance serve", entries, err) // serve.ErrUsage is runner.ErrUsage
}
