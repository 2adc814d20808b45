package compare

import (
	"testing"

	"github.com/wsbench/wsbench/loadgen/report"
)

// withRooms gives r two room rows with the given p99s and losses.
func withRooms(r *report.Report, p99 [2]float64, lost [2]int64) *report.Report {
	for k := range 2 {
		r.Rooms = append(r.Rooms, report.Room{Room: k, Receivers: 5, Sent: 100, Expected: 500, Delivered: 500 - lost[k], Lost: lost[k],
			LatencyMs: report.Summary{Count: 500, P99: p99[k]}})
	}
	return r
}

// TestJudgeRooms: a regression confined to one room is caught by that
// room's rows; reports without rooms get no room rows.
func TestJudgeRooms(t *testing.T) {
	t.Parallel()
	base := synth{clients: 10, senders: 10, size: 64, rate: 100, p50Ms: 2, deliveredPerS: 1000}
	old := withRooms(base.report(t), [2]float64{5, 5}, [2]int64{0, 0})
	new := withRooms(base.report(t), [2]float64{5, 50}, [2]int64{0, 25})
	res := Judge(Pair{Old: []*report.Report{old}, New: []*report.Report{new}}, DefaultOptions())
	verdicts := map[string]Verdict{}
	for _, row := range res.Rows {
		verdicts[row.Metric.Name] = row.Verdict
	}
	for name, want := range map[string]Verdict{"room 0 p99 ms": OK, "room 1 p99 ms": Regression, "room 1 loss %": Regression} {
		if got, ok := verdicts[name]; !ok || got != want {
			t.Errorf("row %q: %v (present %v); want %v", name, got, ok, want)
		}
	}
	plain := Judge(Pair{Old: []*report.Report{base.report(t)}, New: []*report.Report{new}}, DefaultOptions())
	for _, row := range plain.Rows {
		if row.Metric.Has != nil && row.Metric.Name[:4] == "room" {
			t.Errorf("row %q for a pair where one side has no rooms", row.Metric.Name)
		}
	}
}
