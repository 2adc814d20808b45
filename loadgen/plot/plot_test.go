package plot

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/loadgen/report"
)

// writeReport stores a report whose latencies run from 1 ms to scale×1 ms.
func writeReport(t *testing.T, path string, scale int64) {
	t.Helper()
	h := report.NewLatencyHistogram()
	for i := int64(1); i <= 5000; i++ {
		if err := h.RecordValue(1000 + i*scale/5); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := report.EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	r := &report.Report{Tool: report.Tool, Valid: true, LatencyMs: report.Summarize(h), Histograms: report.Histograms{Latency: enc}}
	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
}

func TestRunWritesPNG(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "ours.json"), filepath.Join(dir, "node.json")
	writeReport(t, a, 1)
	writeReport(t, b, 20)
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"file names as labels", Config{Reports: []string{a, b}, Out: filepath.Join(dir, "a.png")}},
		{"labels and log y", Config{Reports: []string{a, b}, Labels: []string{"ours", "node"}, LogY: true, Out: filepath.Join(dir, "b.png")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			if err := Run(tc.cfg, nil); err != nil {
				t.Fatalf("Run(%+v) = %v", tc.cfg, err)
			}
			f, err := os.Open(tc.cfg.Out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatalf("png.Decode: %v", err)
			}
			if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 200 {
				t.Errorf("image is %v; want at least 400×200", b)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := filepath.Join(dir, "a.json")
	writeReport(t, a, 1)
	png := filepath.Join(dir, "x.png")
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no reports", Config{Out: png}, "at least one REPORT"},
		{"no output", Config{Reports: []string{a}}, "need -o"},
		{"bad extension", Config{Reports: []string{a}, Out: filepath.Join(dir, "x.txt")}, "want a .png"},
		{"label count", Config{Reports: []string{a}, Labels: []string{"x", "y"}, Out: png}, "--label values"},
		{"missing report", Config{Reports: []string{filepath.Join(dir, "nope.json")}, Out: png}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if err == nil {
				err = Run(tc.cfg, nil)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate/Run(%+v) = %v; want an error containing %q", tc.cfg, err, tc.want)
			}
		})
	}
}

func TestPercentileXYs(t *testing.T) {
	t.Parallel()
	h := report.NewLatencyHistogram()
	for i := int64(1); i <= 1000; i++ {
		_ = h.RecordValue(i * 1000)
	}
	xys := PercentileXYs(h)
	if xys[0].X != 1 {
		t.Errorf("first x = %g; want 1 (0th percentile)", xys[0].X)
	}
	last := xys[len(xys)-1]
	if last.X != 1000 || last.Y < 999 || last.Y > 1001 {
		t.Errorf("last point = %+v; want x 1000 (count), y ≈ 1000 ms (max)", last)
	}
	for i := 1; i < len(xys); i++ {
		if xys[i].X <= xys[i-1].X || xys[i].Y < xys[i-1].Y {
			t.Fatalf("points %d,%d = %+v,%+v; want x rising and y not falling", i-1, i, xys[i-1], xys[i])
		}
	}
	for _, x := range xys {
		if x.X > 1.99 && x.X < 2.01 && (x.Y < 499 || x.Y > 502) {
			t.Errorf("median point %+v; want y ≈ 500", x)
		}
	}
}

func TestPercentileTicks(t *testing.T) {
	t.Parallel()
	var labels []string
	for _, tk := range (PercentileTicks{}).Ticks(1, 1e4) {
		labels = append(labels, tk.Label)
	}
	if got, want := strings.Join(labels, " "), "0% 50% 90% 99% 99.9% 99.99%"; got != want {
		t.Errorf("Ticks(1, 1e4) labels = %q; want %q", got, want)
	}
}

// TestLegendListsEveryReport plots a report without samples (a run that
// delivered nothing) and an invalid one beside a normal one: all three
// must be in the legend, marked, and stderr must warn about both.
func TestLegendListsEveryReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok, empty, bad := filepath.Join(dir, "ours.json"), filepath.Join(dir, "wrapped.json"), filepath.Join(dir, "dropped.json")
	writeReport(t, ok, 1)
	writeReport(t, bad, 3)
	r, err := report.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	r.Valid, r.InvalidReasons = false, []string{"18 of 20 connections were dropped"}
	if err := r.WriteFile(bad); err != nil {
		t.Fatal(err)
	}
	enc, err := report.EncodeHistogram(report.NewLatencyHistogram())
	if err != nil {
		t.Fatal(err)
	}
	e := &report.Report{Tool: report.Tool, Histograms: report.Histograms{Latency: enc}}
	e.Judge()
	if err := e.WriteFile(empty); err != nil {
		t.Fatal(err)
	}
	svg := filepath.Join(dir, "chart.svg")
	var errb bytes.Buffer
	warn := func(format string, a ...any) { fmt.Fprintf(&errb, format+"\n", a...) }
	if err := Run(Config{Reports: []string{ok, empty, bad}, Out: svg}, warn); err != nil {
		t.Fatalf("Run = %v", err)
	}
	b, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{">ours<", ">wrapped (INVALID) (no samples)<", ">dropped (INVALID)<"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("chart lacks the legend entry %q", want)
		}
	}
	if !strings.Contains(errb.String(), "wrapped.json: no latency samples") || !strings.Contains(errb.String(), "dropped.json: the run is invalid") {
		t.Errorf("warnings %q; want warnings for the empty and the invalid report", errb.String())
	}
}
