package soak

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteMarkdown writes the soak report (results/soak-<date>.md).
func (r *Result) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "# Soak %s\n\n", r.Started.Format(time.RFC3339))
	fmt.Fprintf(&b, "Server pid %d at `%s`; loadgen %d clients, %g broadcasts/s of %d bytes for %v (after a 5 s warmup); a sample every %v.\n\n", c.ServerPID, c.URL, c.Clients, c.Rate, c.Size, c.Duration, c.Interval)
	b.WriteString("| | first third | last third | change |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| server RSS (MiB) | %.1f | %.1f | %+.1f%% |\n", r.RSS.First, r.RSS.Last, 100*r.RSS.Change)
	fmt.Fprintf(&b, "| goroutines | %.0f | %.0f | %+.1f%% |\n\n", r.Goroutines.First, r.Goroutines.Last, 100*r.Goroutines.Change)
	if l := r.Load; l != nil {
		fmt.Fprintf(&b, "Loadgen: %d connected (%d dropped), %d sent, %d expected, %d delivered, **%d lost**, %d duplicated, %d reordered; latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms.\n\n",
			l.Connections.Established, l.Connections.Dropped, l.Messages.Sent, l.Messages.Expected, l.Messages.Delivered, l.Messages.Lost, l.Messages.Duplicated, l.Messages.Reordered,
			l.LatencyMs.P50, l.LatencyMs.P99, l.LatencyMs.P999, l.LatencyMs.Max)
	}
	b.WriteString("| t (s) | RSS (MiB) | goroutines | open |\n|---|---|---|---|\n")
	for _, s := range r.Samples {
		fmt.Fprintf(&b, "| %.0f | %.1f | %.0f | %.0f |\n", s.At, s.RSSMiB, s.Goroutines, s.Open)
	}
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "\n**%s**", verdict)
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "\n- %s", f)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
