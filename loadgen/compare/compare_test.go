package compare

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/loadgen/report"
)

var update = flag.Bool("update", false, "rewrite testdata fixtures and golden files")

// synth is a synthetic report whose latency histogram is spread around
// p50Ms (p99 ≈ 2×, max ≈ 4×), so that summaries come from a real
// HdrHistogram as in a loadgen run.
type synth struct {
	clients, senders, size int
	rate                   float64
	p50Ms                  float64
	deliveredPerS          float64
	lost                   int64
	overloaded             bool    // generator fell behind its timetable
	foreign                int64   // messages not of the run (invalid when above deliveries)
	cpuUs                  float64 // server CPU µs per delivery (0 = not measured)
}

func (s synth) report(t testing.TB) *report.Report {
	t.Helper()
	h := report.NewLatencyHistogram()
	for i := 0; i < 1000; i++ {
		f := 0.5 + float64(i)/1000 // 0.5 … 1.5 × p50
		switch {
		case i >= 999:
			f = 4
		case i >= 990:
			f = 2
		}
		if err := h.RecordValue(int64(s.p50Ms * f * 1000)); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := report.EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	expected := int64(s.deliveredPerS * 10)
	r := &report.Report{
		Tool:        report.Tool,
		Version:     "test",
		Started:     "2026-11-25T08:00:00Z",
		URL:         "ws://127.0.0.1:8181/",
		Config:      report.Config{Clients: s.clients, Senders: s.senders, Rate: s.rate, Size: s.size, DurationS: 10, WarmupS: 1},
		Connections: report.Connections{Attempted: int64(s.clients), Established: int64(s.clients)},
		Messages:    report.Messages{Sent: int64(s.rate * 10), Expected: expected, Delivered: expected - s.lost, Lost: s.lost},
		Throughput:  report.Throughput{SentPerS: s.rate, DeliveredPerS: s.deliveredPerS},
		LatencyMs:   report.Summarize(h),
		Histograms:  report.Histograms{Latency: enc},
	}
	r.Messages.Foreign = s.foreign
	if s.cpuUs > 0 {
		r.Server = &report.Server{PID: 1, CPUSeconds: s.cpuUs * float64(expected) / 1e6, CPUUsPerDelivery: s.cpuUs}
	}
	if s.overloaded {
		r.Generator = report.Generator{Overloaded: true, MaxSendLagMs: 250, MaxSendLagLimitMs: 10}
	}
	r.Judge()
	return r
}

func writeReport(t testing.TB, path string, r *report.Report) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
}

func TestJudgeRow(t *testing.T) {
	t.Parallel()
	o := DefaultOptions()
	one := func(v float64) Stats { return StatsOf([]float64{v}) }
	p99 := Metrics[2]
	tput := Metrics[5]
	maxm := Metrics[4]
	loss := Metrics[6]
	for _, tc := range []struct {
		name     string
		m        Metric
		old, new Stats
		want     Verdict
	}{
		{"equal", p99, one(10), one(10), OK},
		{"small worsening", p99, one(10), one(10.9), OK},
		{"latency regression", p99, one(10), one(12), Regression},
		{"latency improvement", p99, one(10), one(5), Improved},
		{"below absolute floor", p99, one(0.2), one(0.28), OK},
		{"regression inside overlapping ranges", p99, StatsOf([]float64{8, 10, 14}), StatsOf([]float64{11, 12, 13}), Noise},
		{"regression past the ranges", p99, StatsOf([]float64{9, 10, 11}), StatsOf([]float64{13, 14, 15}), Regression},
		{"throughput drop", tput, one(1000), one(800), Regression},
		{"throughput rise", tput, one(1000), one(1300), Improved},
		{"loss appears", loss, one(0), one(0.5), Regression},
		{"tiny loss", loss, one(0), one(0.005), OK},
		{"max is not checked", maxm, one(10), one(40), WorseUnchecked},
		{"max steady", maxm, one(10), one(10.5), Unchecked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, got := judgeRow(tc.m, tc.old, tc.new, o); got != tc.want {
				t.Errorf("judgeRow(%s, %+v, %+v) = %q; want %q", tc.m.Name, tc.old, tc.new, got, tc.want)
			}
		})
	}
}

func TestStatsOf(t *testing.T) {
	t.Parallel()
	s := StatsOf([]float64{1, 2, 3})
	if s.N != 3 || s.Mean != 2 || s.Min != 1 || s.Max != 3 || math.Abs(s.SDev-1) > 1e-9 {
		t.Errorf("StatsOf(1,2,3) = %+v; want n 3, mean 2, min 1, max 3, sd 1", s)
	}
	if s := StatsOf(nil); s.N != 0 {
		t.Errorf("StatsOf(nil) = %+v; want zero", s)
	}
}

// TestRunVerdicts: what compare.Run concludes (the command's exit code
// follows from it: loadgen/cli).
func TestRunVerdicts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := synth{clients: 100, senders: 100, rate: 100, size: 64, p50Ms: 2, deliveredPerS: 10000}
	// Single reports: a 50 % slower p50 is a regression; the same run is not.
	writeReport(t, filepath.Join(dir, "old.json"), base.report(t))
	slow := base
	slow.p50Ms = 3
	writeReport(t, filepath.Join(dir, "slow.json"), slow.report(t))
	// Repeated runs: the new runs sit inside the old spread.
	for i, p50 := range []float64{1.6, 2.0, 2.6} {
		s := base
		s.p50Ms = p50
		writeReport(t, filepath.Join(dir, "oldrep", "matrix", "ours", "run"+strconv.Itoa(i)+".json"), s.report(t))
	}
	for i, p50 := range []float64{2.2, 2.4, 2.5} {
		s := base
		s.p50Ms = p50
		writeReport(t, filepath.Join(dir, "newrep", "matrix", "ours", "run"+strconv.Itoa(i)+".json"), s.report(t))
	}
	other := base
	other.clients = 5
	writeReport(t, filepath.Join(dir, "otherdir", "x.json"), other.report(t))
	if err := os.WriteFile(filepath.Join(dir, "newrep", "runs.json"), []byte(`{"runs":[],"config":{"clients":[100,1000]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "garbage.json"), []byte(`not json`), 0o644); err != nil {
		t.Fatal(err)
	}
	// The old run of issue 13: p99 "improved" by 76.8 % against a run
	// whose generator was overloaded; and a run of a wrapping server.
	over := slow
	over.overloaded = true
	writeReport(t, filepath.Join(dir, "overloaded.json"), over.report(t))
	wrapped := base
	wrapped.foreign = 1_000_000
	writeReport(t, filepath.Join(dir, "invalid.json"), wrapped.report(t))
	// Same latency, 50 % more server CPU per delivery.
	lean, fat := base, base
	lean.cpuUs, fat.cpuUs = 2, 3
	writeReport(t, filepath.Join(dir, "lean.json"), lean.report(t))
	writeReport(t, filepath.Join(dir, "fat.json"), fat.report(t))
	p := func(s string) string { return filepath.Join(dir, s) }
	const regressed, unjudged, fine = "regressed", "unjudged", "fine"
	for _, tc := range []struct {
		name       string
		old, new   string
		maxRegress float64 // percent; 0 = default
		want       string  // regressed, unjudged, fine, or a substring of the error
		out        string  // substring of the output
	}{
		{"same run", "old.json", "old.json", 0, fine, "0 regressed"},
		{"synthetic regression", "old.json", "slow.json", 0, regressed, "REGRESSION"},
		{"regression under a looser threshold", "old.json", "slow.json", 80, fine, "0 regressed"},
		{"improvement", "slow.json", "old.json", 0, fine, "improved"},
		{"within noise", "oldrep", "newrep", 0, fine, "within noise"},
		{"server CPU per delivery regressed", "lean.json", "fat.json", 0, regressed, "server CPU µs/delivery  2.000  3.000  +50.0%    REGRESSION"},
		{"server CPU per delivery improved", "fat.json", "lean.json", 0, fine, "improved"},
		{"CPU row only when both sides have it", "old.json", "fat.json", 0, fine, "0 regressed"},
		{"old side overloaded", "overloaded.json", "old.json", 0, unjudged, "OLD is OVERLOADED"},
		{"new side overloaded", "old.json", "overloaded.json", 0, unjudged, "not judged"},
		{"new side invalid", "old.json", "invalid.json", 0, unjudged, "NEW is invalid: 1000000 foreign"},
		{"missing file", "nope.json", "old.json", 0, "no such file", ""},
		{"not JSON", "garbage.json", "old.json", 0, "read report", ""},
		{"nothing in common", "oldrep", "otherdir", 0, "no config appears", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Old: p(tc.old), New: p(tc.new), Options: DefaultOptions()}
			if tc.maxRegress != 0 {
				cfg.MaxRegress = tc.maxRegress / 100
			}
			var out bytes.Buffer
			tally, err := Run(cfg, &out)
			got := fine
			switch {
			case err != nil:
				got = err.Error()
			case tally.Regressed > 0:
				got = regressed
			case tally.Unjudged > 0:
				got = unjudged
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("Run(%s, %s) = %s; want %s\noutput:\n%s", tc.old, tc.new, got, tc.want, out.String())
			}
			if !strings.Contains(out.String(), tc.out) {
				t.Errorf("Run(%s, %s) output lacks %q:\n%s", tc.old, tc.new, tc.out, out.String())
			}
		})
	}
	if err := (Config{Old: p("old.json"), New: p("old.json"), Options: Options{MaxRegress: -0.05}}).Validate(); err == nil || !strings.Contains(err.Error(), "--max-regress") {
		t.Errorf("Validate(--max-regress -5) = %v; want an error naming --max-regress", err)
	}
}

// fixtures are the golden test's two result directories: a baseline and a
// change in which ours got slower at 1000 clients (a regression past the
// noise), ours at 100 clients moved within noise, node is unchanged, and
// each side has a config the other lacks.
func fixtures(t *testing.T, root string) {
	t.Helper()
	type run struct {
		side, group string
		s           synth
		p50s        []float64
	}
	c100 := synth{clients: 100, senders: 100, rate: 100, size: 64, deliveredPerS: 10000}
	c1000 := synth{clients: 1000, senders: 1000, rate: 100, size: 64, deliveredPerS: 100000}
	c1000lossy := c1000
	c1000lossy.lost = 700
	c1000lossy.deliveredPerS = 99930
	c10 := synth{clients: 10, senders: 10, rate: 10, size: 64, deliveredPerS: 100}
	for _, r := range []run{
		{"old", "matrix/ours", c100, []float64{0.9, 1.0, 1.2}},
		{"new", "matrix/ours", c100, []float64{1.1, 1.15, 1.25}},
		{"old", "matrix/ours", c1000, []float64{3.0, 3.1, 3.2}},
		{"new", "matrix/ours", c1000lossy, []float64{4.0, 4.2, 4.4}},
		{"old", "matrix/node", c1000, []float64{20}},
		{"new", "matrix/node", c1000, []float64{20.5}},
		{"old", "matrix/node", c10, []float64{1}},
		{"new", "matrix/ours", c10, []float64{0.5}},
	} {
		for i, p50 := range r.p50s {
			s := r.s
			s.p50Ms = p50
			name := filepath.Join(root, r.side, filepath.FromSlash(r.group), "c"+strconv.Itoa(s.clients)+"-"+strconv.Itoa(i+1)+".json")
			writeReport(t, name, s.report(t))
		}
	}
}

func TestGoldenOutput(t *testing.T) {
	// Not parallel: -update rewrites testdata.
	if *update {
		for _, d := range []string{"old", "new"} {
			if err := os.RemoveAll(filepath.Join("testdata", d)); err != nil {
				t.Fatal(err)
			}
		}
		fixtures(t, "testdata")
		for side, kib := range map[string]string{"old": "4.1", "new": "4.5"} {
			runs := `{"capacity":[{"server":"ours","clients":1000,"size":64,"deliveries_per_s":600000,"p99_ms":20}],` +
				`"idle":[{"server":"ours","conns":10000,"kib_per_conn":` + kib + `}],"runs":[]}`
			if err := os.WriteFile(filepath.Join("testdata", side, "runs.json"), []byte(runs), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	var out bytes.Buffer
	tally, err := Run(Config{Old: "testdata/old", New: "testdata/new", Options: DefaultOptions()}, &out)
	if err != nil || tally.Regressed == 0 {
		t.Errorf("Run(testdata/old, testdata/new) = %+v, %v; want a regression", tally, err)
	}
	golden := filepath.Join("testdata", "compare.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if out.String() != string(want) {
		t.Errorf("compare output differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", golden, out.String(), want)
	}
}
