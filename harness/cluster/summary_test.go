package cluster

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/loadgen/report"
)

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func rep(conns, sent, delivered, lost int64, perS, p50, p99, max float64, senders int) report.Report {
	var r report.Report
	r.Tool = "wsbench-loadgen"
	r.Connections.Established = conns
	r.Messages.Sent, r.Messages.Delivered, r.Messages.Lost = sent, delivered, lost
	r.Throughput.DeliveredPerS = perS
	r.LatencyMs.P50, r.LatencyMs.P99, r.LatencyMs.Max = p50, p99, max
	r.Config.Senders = senders
	return r
}

// TestWriteSummary writes the reports of a scale part (2 of 3 node
// counts) and a cross part by hand and checks every section of the
// summary: rows, the missing report, CPU, ratios, per-agent rows without
// lost, clock offsets; the big part, without a report, is left out.
func TestWriteSummary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, "scale-1.json"), rep(1000, 500, 500000, 0, 50000, 1.25, 4, 12.34, 20))
	writeJSON(t, filepath.Join(dir, "scale-2.json"), rep(1000, 500, 499000, 1000, 25000, 2.5, 10, 30, 20))
	if err := os.WriteFile(filepath.Join(dir, "scale-1.cpu"), []byte("3.2"), 0o644); err != nil {
		t.Fatal(err)
	}
	merged := struct {
		report.Report
		Generator map[string]any `json:"generator"`
	}{rep(1000, 200, 200000, 0, 20000, 1, 3, 9, 10), map[string]any{
		"agents": []map[string]any{{"id": "agent2", "clock_offset_ms": -0.25, "offset_bound_ms": 0.125}},
	}}
	writeJSON(t, filepath.Join(dir, "cross.json"), merged)
	writeJSON(t, filepath.Join(dir, "cross", "run-agent1.json"), rep(500, 200, 100000, 0, 10000, 0.5, 2, 5, 10))
	writeJSON(t, filepath.Join(dir, "cross", "run-agent2.json"), rep(500, 0, 100000, 7, 10000, 1.5, 4, 9, 0))

	var b strings.Builder
	if err := WriteSummary(&b, dir); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"## Scale: same load, 1 vs 2 vs 3 nodes on one port (SO_REUSEPORT)",
		"| 1 node(s) | 1000 | 500 | 500000 | 0 | 50000 | 1.25 | 4.00 | 12.3 |",
		"| 2 node(s) | 1000 | 500 | 499000 | 1000 | 25000 | 2.50 | 10.00 | 30.0 |",
		"| 3 node(s) | (no report) |||||||",
		"(all nodes, embedded NATS included): 1 node(s) 3.2 s\n",
		"- 2 nodes: 0.50× delivered/s, 2.00× p50, 2.50× p99",
		"## Cross-node latency: one run, senders on node A",
		"| node A (local, no NATS) | 500 | 200 | 100000 | — | 10000 | 0.50 | 2.00 | 5.0 |",
		"| node B (every message via NATS) | 500 | 0 | 100000 | — |",
		"| merged | 1000 | 200 | 200000 | 0 |",
		"- agent2: clock offset -0.250 ms ± 0.125 ms",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q; got:\n%s", want, got)
		}
	}
	if strings.Contains(got, "## Big") || strings.Contains(got, "3 nodes:") {
		t.Errorf("summary shows a part without a report:\n%s", got)
	}
}
