package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/loadgen/report"
)

// TestPlotExitCodes: the plot command's flags and exit codes (the chart
// itself is tested in loadgen/plot).
func TestPlotExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := report.NewLatencyHistogram()
	for i := int64(1); i <= 100; i++ {
		if err := h.RecordValue(1000 * i); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := report.EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(dir, "a.json")
	r := &report.Report{Tool: report.Tool, Valid: true, LatencyMs: report.Summarize(h), Histograms: report.Histograms{Latency: enc}}
	if err := r.WriteFile(a); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want int
		out  string
	}{
		{"png", []string{a, "-o", filepath.Join(dir, "a.png")}, ExitOK, "wrote"},
		{"labels, rooms, log y", []string{"--label", "ours", "--log-y", "--rooms", "--title", "t", a, "-o", filepath.Join(dir, "b.svg")}, ExitOK, "no per-room rows"},
		{"no output", []string{a}, ExitUsage, "need -o"},
		{"bad extension", []string{a, "-o", filepath.Join(dir, "x.txt")}, ExitUsage, "want a .png"},
		{"label count", []string{"--label", "x", "--label", "y", a, "-o", filepath.Join(dir, "x.png")}, ExitUsage, "--label values"},
		{"missing report", []string{filepath.Join(dir, "nope.json"), "-o", filepath.Join(dir, "x.png")}, ExitUsage, "no such file"},
		{"help", []string{"--help"}, ExitOK, "usage: loadgen plot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			if got := loadgen("plot", tc.args, &out, &errb); got != tc.want || !strings.Contains(out.String()+errb.String(), tc.out) {
				t.Errorf("loadgen plot %q = %d, output %q %q; want %d and %q", tc.args, got, out.String(), errb.String(), tc.want, tc.out)
			}
			if tc.want == ExitOK && tc.name != "help" {
				if _, err := os.Stat(tc.args[len(tc.args)-1]); err != nil {
					t.Errorf("loadgen plot %q wrote no chart: %v", tc.args, err)
				}
			}
		})
	}
}
