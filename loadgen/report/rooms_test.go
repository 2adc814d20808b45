package report

import "testing"

// roomReport returns a report with one room row per latency (ms).
func roomReport(t *testing.T, run string, ms ...int64) *Report {
	t.Helper()
	r := &Report{Tool: Tool, RunID: run, URL: "ws://x/", Config: Config{Size: 64}}
	for k, v := range ms {
		h := NewRoomHistogram()
		if err := h.RecordValues(v*1000, 10); err != nil {
			t.Fatal(err)
		}
		enc, err := EncodeHistogram(h)
		if err != nil {
			t.Fatal(err)
		}
		r.Rooms = append(r.Rooms, Room{Room: k, Receivers: 2, Sent: 5, Expected: 10, Delivered: 10, LatencyMs: Summarize(h), Histogram: enc})
		r.Messages.Unexpected++
	}
	return r
}

func TestMergeRooms(t *testing.T) {
	t.Parallel()
	out, err := Merge([]*Report{roomReport(t, "a", 1, 2), roomReport(t, "b", 3, 4)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Rooms) != 2 || out.Config.Rooms != 2 || out.Messages.Unexpected != 4 {
		t.Fatalf("merged rooms %+v, config.rooms %d, unexpected %d; want 2 rooms, 4 unexpected", out.Rooms, out.Config.Rooms, out.Messages.Unexpected)
	}
	for k, want := range []struct{ max float64 }{{3}, {4}} {
		row := out.Rooms[k]
		if row.Receivers != 4 || row.Expected != 20 || row.Delivered != 20 || row.LatencyMs.Count != 20 || row.LatencyMs.Max < 0.99*want.max || row.LatencyMs.Max > 1.01*want.max {
			t.Errorf("room %d = %+v; want 4 receivers, 20 expected and delivered, 20 latencies up to %g ms", k, row, want.max)
		}
	}
}
