package compare

import (
	"fmt"

	"github.com/wsbench/wsbench/loadgen/report"
)

// roomMetrics returns, for runs made with loadgen --rooms, a p99 and a
// loss row per room that every report of the pair has: a regression
// confined to one room shows even when the overall numbers hide it.
func roomMetrics(p Pair) []Metric {
	n := -1
	for _, rs := range [][]*report.Report{p.Old, p.New} {
		for _, r := range rs {
			if n < 0 || len(r.Rooms) < n {
				n = len(r.Rooms)
			}
		}
	}
	var out []Metric
	for k := 0; k < n; k++ {
		has := func(r *report.Report) bool { return len(r.Rooms) > k && r.Rooms[k].Room == k }
		out = append(out,
			Metric{Name: fmt.Sprintf("room %d p99 ms", k), Checked: true, Latency: true, Has: has,
				Get: func(r *report.Report) float64 { return r.Rooms[k].LatencyMs.P99 }},
			Metric{Name: fmt.Sprintf("room %d loss %%", k), Checked: true, Loss: true, Has: has,
				Get: func(r *report.Report) float64 {
					if r.Rooms[k].Expected <= 0 {
						return 0
					}
					return 100 * float64(r.Rooms[k].Lost) / float64(r.Rooms[k].Expected)
				}},
		)
	}
	return out
}
