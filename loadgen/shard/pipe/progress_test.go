package pipe

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/loadgen/run"
)

func tickLine(t *testing.T, tk run.Tick) string {
	b, err := json.Marshal(tk)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tickWriter{&buf}.Write(append(b, '\n'))
	return strings.TrimSuffix(buf.String(), "\n")
}

// TestProgressMerger: one line per second once every worker has reported
// it, counts summed, p99 the largest; a second a worker never reports is
// written two seconds later with the others; log lines are not ticks.
func TestProgressMerger(t *testing.T) {
	var out, ilog bytes.Buffer
	m := newProgressMerger(2, 30, &out, &ilog)
	if m.line(0, "warning: something") {
		t.Error("a log line was taken for a tick")
	}
	m.line(0, tickLine(t, run.Tick{T: 1.0, Phase: "measure", Connected: 10, Sent: 5, Deliveries: 100, P50Ms: 1, P99Ms: 4, MaxMs: 5}))
	if out.Len() != 0 {
		t.Fatalf("second 1 written before worker 1 sent it: %q", out.String())
	}
	m.line(1, tickLine(t, run.Tick{T: 1.01, Phase: "measure", Connected: 20, Sent: 5, Deliveries: 300, P50Ms: 3, P99Ms: 9, MaxMs: 12, Undelivered: 0.5}))
	want := "   1.0s measure connected 30/30  sent 10/s  delivered 400/s  p50 2.50ms p99 ≤9.00ms max 12.00ms (last 1s, 2 of 2 workers)  undelivered 33.33%\n"
	if out.String() != want {
		t.Fatalf("merged line\n got %q\nwant %q", out.String(), want)
	}
	out.Reset()
	for _, s := range []float64{2, 3, 4} { // worker 1 has gone quiet
		m.line(0, tickLine(t, run.Tick{T: s, Phase: "measure", Connected: 10}))
	}
	if got := out.String(); !strings.HasPrefix(got, "   2.0s") || strings.Count(got, "(last 1s, 1 of 2 workers)") != 1 {
		t.Fatalf("with worker 1 quiet since second 2 and worker 0 at second 4: %q; want second 2 only", got)
	}
	m.flush()
	if got := strings.Count(ilog.String(), "\n"); got != 4 {
		t.Fatalf("interval log has %d lines; want 4:\n%s", got, ilog.String())
	}
}
