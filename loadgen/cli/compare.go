package cli

import (
	"context"
	"fmt"

	"github.com/wsbench/wsbench/loadgen/compare"
)

// Exit codes of `loadgen compare` besides ExitOK and ExitUsage.
const (
	ExitRegressed = 1 // a checked metric regressed past --max-regress
	// ExitUnjudged: some pair could not be judged because a run on either
	// side was invalid or its generator overloaded (and nothing regressed).
	ExitUnjudged = 3
)

const compareUsage = `usage: loadgen compare [flags] OLD NEW

OLD and NEW are loadgen report files (--out JSON) or result directories
written by make bench (e.g. results/baseline). Directories are matched by
folder (matrix/ours, capacity/node, …) and config (clients, senders, rate,
size); repeated runs of a config give each side a min–max range, and a change
inside the overlap of the ranges is "within noise" and not flagged.

A pair with an invalid run (report "valid": false) or an OVERLOADED
generator on either side is not judged: its numbers are shown with the
verdict "not judged" and the reason, never "improved" or "REGRESSION".

Exit status: 0 no regression, 1 a checked metric regressed past
--max-regress, 2 usage error or unreadable input, 3 a pair could not be
judged (a side invalid or overloaded; re-run it) and nothing regressed.

Examples:
  loadgen compare results/baseline results/2026-11-25-myhost
  loadgen compare --max-regress 5 old.json new.json

Flags:
`

// compareCmd is `loadgen compare [flags] OLD NEW`.
func compareCmd() *command {
	fs := newFlags("loadgen compare")
	maxRegress := fs.Float64("max-regress", 100*compare.DefaultMaxRegress, "percent by which a checked metric (p50, p90, p99, p99.9, delivered/s, server CPU µs/delivery when both sides have it) may get worse before it is a regression")
	minDelta := fs.Float64("min-delta-ms", compare.DefaultMinDeltaMs, "latency changes smaller than this (ms) are never regressions")
	maxLoss := fs.Float64("max-loss-increase", compare.DefaultMaxLossIncrease, "loss increase (percentage points of expected deliveries) that is a regression")
	c := &command{flags: fs, usage: compareUsage}
	c.run = func(_ context.Context, args []string, io stdio) int {
		if len(args) != 2 {
			c.usageError(io, fmt.Errorf("got %d arguments; need OLD and NEW", len(args)))
			return ExitUsage
		}
		cfg := compare.Config{Old: args[0], New: args[1],
			Options: compare.Options{MaxRegress: *maxRegress / 100, MinDeltaMs: *minDelta, MaxLossIncrease: *maxLoss}}
		if err := cfg.Validate(); err != nil {
			fmt.Fprintf(io.err, "loadgen compare: %v\n", err)
			return ExitUsage
		}
		t, err := compare.Run(cfg, io.out)
		if err != nil {
			fmt.Fprintf(io.err, "loadgen compare: %v\n", err)
			return ExitUsage
		}
		switch {
		case t.Regressed > 0:
			return ExitRegressed
		case t.Unjudged > 0:
			fmt.Fprintf(io.err, "loadgen compare: %d of %d configs not judged: a run on either side was invalid or overloaded (see NOT JUDGED above); re-run those before comparing\n", t.Unjudged, t.Compared)
			return ExitUnjudged
		}
		return ExitOK
	}
	return c
}
