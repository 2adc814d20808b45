package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/wsbench/wsbench/loadgen/report"
)

const mergeUsage = `usage: loadgen merge REPORT.json… -o OUT.json [--hgrm OUT.hgrm]

Merges reports of runs made at the same time against the same server (for
example one loadgen per machine): latency, connect and fan-out histograms are
merged from their encodings, counters summed, summaries and throughput
recomputed; the result is overloaded if any input was. Each input run used
its own run id, so each counted only its own broadcasts: the same report
(run id) twice is refused, and parts whose measured windows do not overlap
are merged with a warning. The result is invalid (exit 4) when any part was,
with that part's reasons, or when the merged counts are.

Flags:
`

// mergeCmd is `loadgen merge REPORT.json… -o OUT.json [--hgrm F]`.
func mergeCmd() *command {
	fs := newFlags("loadgen merge")
	out := fs.StringP("out", "o", "", "write the merged JSON report here (required)")
	hgrm := fs.String("hgrm", "", "write the merged latency percentile distribution here")
	c := &command{flags: fs, usage: mergeUsage}
	c.run = func(_ context.Context, names []string, io stdio) int {
		if len(names) == 0 || *out == "" {
			c.usageError(io, errors.New("need report files and -o OUT.json"))
			return ExitUsage
		}
		return merge(names, *out, *hgrm, io.out, io.err)
	}
	return c
}

// merge merges the report files names into out (and hgrm).
func merge(names []string, out, hgrm string, stdout, stderr io.Writer) int {
	var reps []*report.Report
	for _, path := range names {
		r, err := report.ReadFile(path)
		if err != nil {
			fmt.Fprintf(stderr, "loadgen merge: %v\n", err)
			return ExitUsage
		}
		reps = append(reps, r)
	}
	m, warnings, err := report.MergeParts(reps, names)
	if err != nil {
		fmt.Fprintf(stderr, "loadgen merge: %v\n", err)
		return ExitUsage
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "loadgen merge: warning: %s\n", w)
	}
	if err := writeOutputs(m, out, hgrm, stdout); err != nil {
		fmt.Fprintf(stderr, "loadgen merge: %v\n", err)
		return ExitThreshold
	}
	if !m.Valid {
		for _, why := range m.InvalidReasons {
			fmt.Fprintf(stderr, "loadgen merge: invalid: %s\n", why)
		}
		return ExitInvalid
	}
	return ExitOK
}
