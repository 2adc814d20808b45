package plot

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/loadgen/report"
)

func TestRoomsCurves(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "rooms.json")
	writeReport(t, path, 5)
	r, err := report.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 3 {
		h := report.NewRoomHistogram()
		_ = h.RecordValues(int64(1000*(k+1)), 100)
		enc, _ := report.EncodeHistogram(h)
		r.Rooms = append(r.Rooms, report.Room{Room: k, Histogram: enc})
	}
	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := roomSeries("run", r)
	if err != nil || len(got) != 3 || got[2].Label != "run room 2" || got[2].Hist.TotalCount() != 100 {
		t.Fatalf("roomSeries = %d series, %v; want 3, the last labelled 'run room 2' with 100 values", len(got), err)
	}
	var warned []string
	warn := func(f string, a ...any) { warned = append(warned, f) }
	if err := Run(Config{Reports: []string{path}, Out: filepath.Join(dir, "rooms.png"), Rooms: true}, warn); err != nil || len(warned) != 0 {
		t.Errorf("Run --rooms = %v, warnings %q; want a chart and no warning", err, warned)
	}
	plain := filepath.Join(dir, "plain.json")
	writeReport(t, plain, 1)
	warned = nil
	if err := Run(Config{Reports: []string{plain}, Out: filepath.Join(dir, "plain.png"), Rooms: true}, warn); err != nil || len(warned) != 1 || !strings.Contains(warned[0], "no per-room rows") {
		t.Errorf("Run --rooms on a report without rooms = %v, warnings %q; want one warning", err, warned)
	}
}
