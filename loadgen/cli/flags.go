package cli

import (
	"fmt"
	"strconv"
	"strings"
)

// Loss is a pflag.Value for --max-loss: a fraction ("0.001") or a
// percentage with a trailing % ("0.1%"). Plain numbers above 1 are refused
// as ambiguous.
type Loss struct {
	Fraction float64 // the limit as a fraction of expected deliveries
	Given    bool    // the flag was set (so 0 means "no loss allowed")
}

// String implements pflag.Value.
func (l *Loss) String() string {
	if !l.Given {
		return ""
	}
	return strconv.FormatFloat(100*l.Fraction, 'g', -1, 64) + "%"
}

// Type implements pflag.Value.
func (l *Loss) Type() string { return "loss" }

// Set implements pflag.Value.
func (l *Loss) Set(s string) error {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || v < 0 {
		return fmt.Errorf("want a fraction like 0.001 or a percentage like 0.1%%")
	}
	if pct {
		v /= 100
	} else if v > 1 {
		return fmt.Errorf("%s is above 1: write %s%% for a percentage, or a fraction like 0.01", s, s)
	}
	if v > 1 {
		return fmt.Errorf("%s is more than 100%%", s)
	}
	l.Fraction, l.Given = v, true
	return nil
}
