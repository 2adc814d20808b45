package compare

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"
)

// Exit codes of Main.
const (
	ExitOK        = 0
	ExitRegressed = 1
	ExitUsage     = 2
	// ExitUnjudged: some pair could not be judged because a run on either
	// side was invalid or its generator overloaded (and nothing regressed).
	ExitUnjudged = 3
)

// Config is the command line of `loadgen compare`.
type Config struct {
	Old, New string
	Options
}

// Validate checks c.
func (c Config) Validate() error {
	switch {
	case c.Old == "" || c.New == "":
		return errors.New("need two arguments: OLD and NEW (report files or result directories)")
	case c.MaxRegress <= 0 || c.MaxRegress >= 10:
		return fmt.Errorf("--max-regress %g%%: want a percentage above 0, e.g. 10", 100*c.MaxRegress)
	case c.MinDeltaMs < 0:
		return fmt.Errorf("--min-delta-ms %g: want 0 or more", c.MinDeltaMs)
	case c.MaxLossIncrease < 0:
		return fmt.Errorf("--max-loss-increase %g: want 0 or more percentage points", c.MaxLossIncrease)
	}
	return nil
}

const usage = `usage: loadgen compare [flags] OLD NEW

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

// Main runs `loadgen compare` with args (without the subcommand name).
func Main(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("loadgen compare", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	maxRegress := fs.Float64("max-regress", 100*DefaultMaxRegress, "percent by which a checked metric (p50, p90, p99, p99.9, delivered/s, server CPU µs/delivery when both sides have it) may get worse before it is a regression")
	minDelta := fs.Float64("min-delta-ms", DefaultMinDeltaMs, "latency changes smaller than this (ms) are never regressions")
	maxLoss := fs.Float64("max-loss-increase", DefaultMaxLossIncrease, "loss increase (percentage points of expected deliveries) that is a regression")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, usage+fs.FlagUsages())
			return ExitOK
		}
		fmt.Fprintf(stderr, "loadgen compare: %v\n%s%s", err, usage, fs.FlagUsages())
		return ExitUsage
	}
	cfg := Config{Options: Options{MaxRegress: *maxRegress / 100, MinDeltaMs: *minDelta, MaxLossIncrease: *maxLoss}}
	if fs.NArg() != 2 {
		fmt.Fprintf(stderr, "loadgen compare: got %d arguments; need OLD and NEW\n%s%s", fs.NArg(), usage, fs.FlagUsages())
		return ExitUsage
	}
	cfg.Old, cfg.New = fs.Arg(0), fs.Arg(1)
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "loadgen compare: %v\n", err)
		return ExitUsage
	}
	t, err := Run(cfg, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "loadgen compare: %v\n", err)
		return ExitUsage
	}
	switch {
	case t.Regressed > 0:
		return ExitRegressed
	case t.Unjudged > 0:
		fmt.Fprintf(stderr, "loadgen compare: %d of %d configs not judged: a run on either side was invalid or overloaded (see NOT JUDGED above); re-run those before comparing\n", t.Unjudged, t.Compared)
		return ExitUnjudged
	}
	return ExitOK
}

// ErrNothingInCommon is returned by Run when no config appears on both sides.
var ErrNothingInCommon = errors.New("no config appears in both OLD and NEW")

// Run loads, matches, judges and prints; it returns the tally (regressed,
// not judged, …).
func Run(cfg Config, w io.Writer) (Tally, error) {
	old, err := Load(cfg.Old)
	if err != nil {
		return Tally{}, err
	}
	new, err := Load(cfg.New)
	if err != nil {
		return Tally{}, err
	}
	pairs := Match(old, new)
	results := make([]Result, len(pairs))
	common := 0
	for i, p := range pairs {
		results[i] = Judge(p, cfg.Options)
		if len(p.Old) > 0 && len(p.New) > 0 {
			common++
		}
	}
	if common == 0 {
		return Tally{}, fmt.Errorf("%w (%d reports in %s, %d in %s)", ErrNothingInCommon, len(old), cfg.Old, len(new), cfg.New)
	}
	if err := WriteBench(w, cfg.Old, cfg.New); err != nil {
		return Tally{}, err
	}
	t, err := Write(w, "OLD", "NEW", results, cfg.Options)
	if err != nil {
		return Tally{}, err
	}
	fmt.Fprintf(w, "OLD = %s, NEW = %s\n", cfg.Old, cfg.New)
	return t, nil
}
