package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s\nwant:\n%s", name, got, want)
	}
}

// sample returns a deterministic report: latencies 1…1000 ms.
func sample(t *testing.T) *Report {
	t.Helper()
	lat, con, fan := NewLatencyHistogram(), NewLatencyHistogram(), NewLatencyHistogram()
	for i := int64(1); i <= 1000; i++ {
		_ = lat.RecordValue(i * 1000)
		_ = fan.RecordValue(i*1000 + 500)
	}
	_ = con.RecordValue(1200)
	_ = con.RecordValue(800)
	r := &Report{
		Tool: Tool, Version: "test", Started: "2026-11-25T08:00:00Z", URL: "ws://127.0.0.1:8181/",
		Config:      Config{Clients: 2, Senders: 1, Rate: 100, Size: 64, DurationS: 10, WarmupS: 1, Ramp: 1000, Procs: 1},
		Connections: Connections{Attempted: 2, Established: 2},
		Messages:    Messages{Sent: 1000, Receivers: 2, Expected: 2000, Delivered: 2001, Lost: 1, Duplicated: 2, Reordered: 1, Foreign: 3},
		MeasuredS:   10,
		Generator:   Generator{MaxSendLagMs: 0.25, SendLagMs: Summary{Count: 1000, Max: 0.25}, MaxSendLagLimitMs: 10, RSSPerClientKB: 9.5, FDLimit: 20000, GoMaxProcs: 2, CPUSeconds: 1.5},
	}
	r.Config.MaxDrops, r.Config.MaxConnectFail = DefaultMaxDrops, DefaultMaxConnectFail
	r.Messages.ExpectedAll, r.Messages.LostAll = r.Messages.Expected, r.Messages.Lost
	r.RunID = "00000000000000ff"
	r.Window = &Window{Start: "2026-11-25T08:00:01.000000000Z", End: "2026-11-25T08:00:11.000000000Z"}
	r.Recompute(lat, con, fan)
	r.Judge()
	return r
}

func TestReportGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := sample(t).Write(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.golden.json", buf.Bytes())
	back, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	_ = back.Write(&again)
	if !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Error("Write(Read(Write(r))) differs from Write(r)")
	}
}

func TestTableGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := sample(t).WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "table.golden.txt", buf.Bytes())
}

func TestHgrmGolden(t *testing.T) {
	lat, _ := DecodeHistogram(sample(t).Histograms.Latency)
	var buf bytes.Buffer
	if err := WriteHgrm(&buf, lat); err != nil {
		t.Fatal(err)
	}
	golden(t, "latency.golden.hgrm", buf.Bytes())
}

func TestMerge(t *testing.T) {
	t.Parallel()
	a, b := sample(t), sample(t)
	b.Generator.Overloaded = true
	b.Generator.MaxSendLagMs = 30
	m, err := Merge([]*Report{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if m.Messages.Sent != 2000 || m.Messages.Expected != 4000 || m.Messages.Lost != 2 || m.Connections.Established != 4 {
		t.Errorf("merged counters = %+v %+v; want sums", m.Messages, m.Connections)
	}
	if m.LatencyMs.Count != 2000 || m.LatencyMs.P50 != a.LatencyMs.P50 || m.LatencyMs.Max != a.LatencyMs.Max {
		t.Errorf("merged latency = %+v; want count 2000 and the same percentiles as %+v", m.LatencyMs, a.LatencyMs)
	}
	if !m.Generator.Overloaded || m.Generator.MaxSendLagMs != 30 {
		t.Errorf("merged generator = %+v; want overloaded with max lag 30", m.Generator)
	}
	if m.Throughput.SentPerS != 200 || m.Config.Rate != 200 || m.Config.Clients != 4 {
		t.Errorf("merged throughput %+v config %+v; want 200 sent/s, rate 200, 4 clients", m.Throughput, m.Config)
	}
	if _, err := Merge(nil); err != ErrNothingToMerge {
		t.Errorf("Merge(nil) = %v; want ErrNothingToMerge", err)
	}
	bad := sample(t)
	bad.Histograms.Latency = "!!"
	if _, err := Merge([]*Report{a, bad}); err == nil {
		t.Error("Merge with a corrupt histogram succeeded; want an error")
	}
}
