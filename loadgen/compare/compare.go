package compare

import (
	"errors"
	"fmt"
	"io"
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
