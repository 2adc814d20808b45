package bench

import (
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/wsbench/wsbench/loadgen/report"
)

// writeSyntheticReport stores a report whose latencies spread around p50Ms.
func writeSyntheticReport(t *testing.T, path string, p50Ms float64) {
	t.Helper()
	h := report.NewLatencyHistogram()
	for i := 1; i <= 2000; i++ {
		if err := h.RecordValue(int64(p50Ms * 1000 * float64(i) / 1000)); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := report.EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	r := &report.Report{Tool: report.Tool, LatencyMs: report.Summarize(h), Histograms: report.Histograms{Latency: enc}}
	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
}

func TestChartsWritePNGs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "plots"), 0o755); err != nil {
		t.Fatal(err)
	}
	res := Results{SLOMs: 50}
	for i, s := range []struct {
		server string
		rate   float64
		p50    float64
		pass   bool
	}{{Ours, 100, 1, true}, {Ours, 200, 2, true}, {Node, 100, 10, true}, {Node, 200, 80, false}} {
		rel := filepath.Join("capacity", s.server, "step"+strconv.Itoa(i)+".json")
		writeSyntheticReport(t, filepath.Join(dir, rel), s.p50)
		res.Runs = append(res.Runs, RunRecord{Kind: "capacity", Server: s.server, Clients: 100, Rate: s.rate, Size: 64,
			OfferedPerS: 100 * s.rate, Report: rel, Pass: s.pass, Latency: report.Summary{Count: 1, P99: s.p50 * 2}})
	}
	rel := filepath.Join("matrix", Ours, "c100-r10-s64-1.json")
	writeSyntheticReport(t, filepath.Join(dir, rel), 1)
	res.Runs = append(res.Runs, RunRecord{Kind: "matrix", Server: Ours, Repeat: 1, Clients: 100, Rate: 10, Size: 64, Report: rel, Pass: true})
	res.Capacity = []CapacityRecord{{Server: Ours, Clients: 100, BestRate: 200}, {Server: Node, Clients: 100, BestRate: 100, FailedRate: 200}}
	res.Idle = []IdleResult{{Server: Ours, Conns: 100, KiBPerConn: 3}, {Server: Node, Conns: 100, KiBPerConn: 9}}

	charts, err := Charts(dir, res)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"plots/capacity-p99.png": true, "plots/latency-capacity.png": true, "plots/memory-per-conn.png": true, "plots/latency-c100-r10-s64.png": true}
	if len(charts) != len(want) {
		t.Errorf("Charts wrote %v; want %d charts", charts, len(want))
	}
	for _, c := range charts {
		if !want[c.Path] {
			t.Errorf("unexpected chart %s", c.Path)
		}
		f, err := os.Open(filepath.Join(dir, c.Path))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(f); err != nil {
			t.Errorf("%s: png.Decode: %v", c.Path, err)
		}
		f.Close()
	}
}
