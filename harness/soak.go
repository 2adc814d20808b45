package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/harness/soak"
	"github.com/wsbench/wsbench/harness/target"
)

// soakMain is `harness soak`: a steady loadgen broadcast against a running
// server for a duration, sampling the server's RSS and goroutines, and the
// drift report (harness/soak). With --server-bin it starts the server
// itself (harness/target), as make soak does.
func soakMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg := soak.DefaultConfig()
	outDir := "results"
	fs := pflag.NewFlagSet("soak", pflag.ContinueOnError)
	fs.StringVar(&cfg.URL, "url", "", "ws:// URL of the room to load (loopback only)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "pid of the server process to sample")
	fs.StringVar(&cfg.Loadgen, "loadgen", "", "path of the loadgen binary")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "measured length of the steady broadcast")
	fs.DurationVar(&cfg.Interval, "interval", cfg.Interval, "sampling period")
	fs.IntVar(&cfg.Clients, "clients", cfg.Clients, "loadgen clients")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "broadcasts per second")
	fs.IntVar(&cfg.Size, "size", cfg.Size, "message size in bytes")
	fs.Float64Var(&cfg.MaxRSSDrift, "max-rss-drift", cfg.MaxRSSDrift, "fail when the last third's mean RSS exceeds the first third's by this fraction")
	fs.Float64Var(&cfg.MaxGoroutineDrift, "max-goroutine-drift", cfg.MaxGoroutineDrift, "same for goroutines (plus 10 of slack)")
	fs.StringVar(&outDir, "out-dir", outDir, "directory for soak-<date>.md and .json")
	var serverBin, serverLog string
	fs.StringVar(&serverBin, "server-bin", "", "start this server binary (ours) on a free loopback port instead of --url/--server-pid, load its room /soak, and stop it afterwards")
	fs.StringVar(&serverLog, "server-log", "", "file for --server-bin's output (default: discarded)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: harness soak (--server-bin bin/server | --url ws://127.0.0.1:PORT/soak --server-pid PID) --loadgen bin/loadgen [flags]\n\nSteady broadcast for --duration; reports server RSS/goroutine drift (first vs last third) and loss.\n\nFlags:\n%s\nExamples:\n  SOAK=3m make soak\n  go run ./harness soak --server-bin bin/server --loadgen bin/loadgen --duration 1m --interval 5s\n", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "soak: unexpected arguments %q; all settings are flags (see --help)\n", fs.Args())
		return 2
	}
	if serverBin != "" {
		if cfg.URL != "" || cfg.ServerPID != 0 {
			fmt.Fprintln(stderr, "soak: --server-bin starts the server; leave out --url and --server-pid")
			return 2
		}
		cfg.URL, cfg.ServerPID = "ws://127.0.0.1:1/soak", 1 // validated now, set when the server runs
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "soak: %v\n", err)
		return 2
	}
	if serverBin != "" {
		srv, err := target.Start(ctx, target.Ours("server", serverBin, serverLog))
		if err != nil {
			fmt.Fprintf(stderr, "soak: %v\n", err)
			return 3
		}
		defer srv.Stop()
		cfg.URL, cfg.ServerPID = srv.URL+"soak", srv.Pid()
		fmt.Fprintf(stderr, "soak: server pid %d on %s, soaking for %v\n", srv.Pid(), srv.Addr(), cfg.Duration)
	}
	res, err := soak.Run(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "soak: %v\n", err)
		return 3
	}
	if err := writeSoak(outDir, res, stderr); err != nil {
		fmt.Fprintf(stderr, "soak: %v\n", err)
		return 1
	}
	res.WriteMarkdown(stdout)
	if !res.Pass {
		return 1
	}
	return 0
}

// writeSoak writes the report into outDir/soak-<date>.md.
func writeSoak(outDir string, res *soak.Result, stderr io.Writer) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(outDir, "soak-"+res.Started.Format("2006-01-02T150405Z")+".md")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = res.WriteMarkdown(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Fprintf(stderr, "wrote %s\n", path)
	return nil
}
