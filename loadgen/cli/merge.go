package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"
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

// Merge is `loadgen merge`. It returns the exit code.
func Merge(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("loadgen merge", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.StringP("out", "o", "", "write the merged JSON report here (required)")
	hgrm := fs.String("hgrm", "", "write the merged latency percentile distribution here")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, mergeUsage+fs.FlagUsages())
			return ExitOK
		}
		fmt.Fprintf(stderr, "loadgen merge: %v\n%s%s", err, mergeUsage, fs.FlagUsages())
		return ExitUsage
	}
	if fs.NArg() == 0 || *out == "" {
		fmt.Fprintf(stderr, "loadgen merge: need report files and -o OUT.json\n%s%s", mergeUsage, fs.FlagUsages())
		return ExitUsage
	}
	var reps []*report.Report
	names := fs.Args()
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
	if err := writeOutputs(m, *out, *hgrm, stdout); err != nil {
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
