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
)

// soakMain is `harness soak`: a steady loadgen broadcast against a running
// server for a duration, sampling the server's RSS and goroutines, and the
// drift report (harness/soak). scripts/soak.sh (make soak) starts our
// server and builds the loadgen first.
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
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: harness soak --url ws://127.0.0.1:PORT/soak --server-pid PID --loadgen bin/loadgen [flags]\n\nSteady broadcast for --duration; reports server RSS/goroutine drift (first vs last third) and loss.\n\nFlags:\n%s\nExample:\n  SOAK=3m scripts/soak.sh\n", fs.FlagUsages())
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
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "soak: %v\n", err)
		return 2
	}
	res, err := soak.Run(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "soak: %v\n", err)
		return 3
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		fmt.Fprintf(stderr, "soak: %v\n", err)
		return 1
	}
	path := filepath.Join(outDir, "soak-"+res.Started.Format("2006-01-02T150405Z")+".md")
	f, err := os.Create(path)
	if err == nil {
		err = res.WriteMarkdown(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "soak: write %s: %v\n", path, err)
		return 1
	}
	res.WriteMarkdown(stdout)
	fmt.Fprintf(stderr, "wrote %s\n", path)
	if !res.Pass {
		return 1
	}
	return 0
}
