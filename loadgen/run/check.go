package run

import (
	"fmt"
	"time"

	"github.com/wsbench/wsbench/loadgen/report"
)

// Thresholds are the pass/fail limits of a run; zero values are off.
type Thresholds struct {
	MaxP99  time.Duration // delivery latency p99
	MaxLoss float64       // lost / expected, as a fraction (0.01 = 1 %)
	LossSet bool          // MaxLoss was given (so 0 means "no loss allowed")
}

// Check returns one line per threshold the report exceeds.
func (t Thresholds) Check(r *report.Report) []string {
	var out []string
	if t.MaxP99 > 0 {
		limit := float64(t.MaxP99) / 1e6
		if r.LatencyMs.Count == 0 {
			out = append(out, fmt.Sprintf("p99 latency: no deliveries measured (limit %v)", t.MaxP99))
		} else if r.LatencyMs.P99 > limit {
			out = append(out, fmt.Sprintf("p99 latency %.3f ms > --max-p99 %v", r.LatencyMs.P99, t.MaxP99))
		}
	}
	if t.LossSet {
		// Dropped receivers count: each was owed every measured broadcast,
		// so closing the receivers it falls behind on does not help a server.
		m := r.Messages
		expected, lost := m.ExpectedAll, m.LostAll
		if expected < m.Expected {
			expected, lost = m.Expected, m.Lost
		}
		switch {
		case expected == 0:
			out = append(out, "loss: no deliveries were expected (nothing sent or no receiver lasted the window)")
		case float64(lost)/float64(expected) > t.MaxLoss && expected > m.Expected:
			out = append(out, fmt.Sprintf("loss %.4f%% (%d of %d, counting the %d dropped receivers; %.4f%% over the %d that stayed) > --max-loss %.4f%%",
				100*float64(lost)/float64(expected), lost, expected, r.Connections.Dropped, 100*float64(m.Lost)/float64(max(m.Expected, 1)), m.Receivers, 100*t.MaxLoss))
		case float64(lost)/float64(expected) > t.MaxLoss:
			out = append(out, fmt.Sprintf("loss %.4f%% (%d of %d) > --max-loss %.4f%%", 100*float64(lost)/float64(expected), lost, expected, 100*t.MaxLoss))
		}
	}
	return out
}
