package compare

import (
	"fmt"
	"math"

	"github.com/wsbench/wsbench/loadgen/report"
)

// Direction says which way a metric gets worse.
type Direction int

// Directions of a metric.
const (
	HigherIsWorse Direction = iota // latency, loss
	LowerIsWorse                   // throughput
)

// Metric is one number read from a report.
type Metric struct {
	Name    string // as printed, e.g. "p99 ms"
	Worse   Direction
	Checked bool // whether a regression of this metric fails the comparison
	Latency bool // milliseconds: Options.MinDeltaMs applies
	Loss    bool // percent of expected deliveries: Options.MaxLossIncrease applies
	Get     func(*report.Report) float64
	// Has, if set, says whether a report carries the metric; the row is
	// left out unless every report of the pair does.
	Has func(*report.Report) bool
}

// Metrics are the rows of every comparison, in print order. The maximum is
// shown but not checked: a single stall decides it, so it is too noisy to
// fail a change on.
var Metrics = []Metric{
	{Name: "p50 ms", Checked: true, Latency: true, Get: func(r *report.Report) float64 { return r.LatencyMs.P50 }},
	{Name: "p90 ms", Checked: true, Latency: true, Get: func(r *report.Report) float64 { return r.LatencyMs.P90 }},
	{Name: "p99 ms", Checked: true, Latency: true, Get: func(r *report.Report) float64 { return r.LatencyMs.P99 }},
	{Name: "p99.9 ms", Checked: true, Latency: true, Get: func(r *report.Report) float64 { return r.LatencyMs.P999 }},
	{Name: "max ms", Latency: true, Get: func(r *report.Report) float64 { return r.LatencyMs.Max }},
	{Name: "delivered/s", Worse: LowerIsWorse, Checked: true, Get: func(r *report.Report) float64 { return r.Throughput.DeliveredPerS }},
	{Name: "loss %", Checked: true, Loss: true, Get: LossPercent},
	// The server's CPU per delivery (loadgen --server-pid, as make bench
	// runs it): on a shared machine it moves far less than latency, so a
	// change in it is the most trustworthy signal of a server change.
	{Name: "server CPU µs/delivery", Checked: true, Get: func(r *report.Report) float64 { return r.Server.CPUUsPerDelivery },
		Has: func(r *report.Report) bool { return r.Server != nil && r.Server.CPUUsPerDelivery > 0 }},
}

// LossPercent is lost deliveries as a percentage of expected ones.
func LossPercent(r *report.Report) float64 {
	if r.Messages.Expected <= 0 {
		return 0
	}
	return 100 * float64(r.Messages.Lost) / float64(r.Messages.Expected)
}

// Defaults of Options.
const (
	DefaultMaxRegress      = 0.10 // 10 %
	DefaultMinDeltaMs      = 0.1
	DefaultMaxLossIncrease = 0.01 // percentage points
)

// Options set how large a change must be to count.
type Options struct {
	// MaxRegress is the relative change (0.10 = 10 %) past which a checked
	// metric that got worse is a regression.
	MaxRegress float64
	// MinDeltaMs: latency changes smaller than this many milliseconds are
	// never regressions (3 significant digits of a sub-millisecond p50 are
	// mostly scheduler noise).
	MinDeltaMs float64
	// MaxLossIncrease is in percentage points: loss is judged by its
	// absolute increase, since the old loss is usually zero.
	MaxLossIncrease float64
}

// DefaultOptions returns the documented defaults.
func DefaultOptions() Options {
	return Options{MaxRegress: DefaultMaxRegress, MinDeltaMs: DefaultMinDeltaMs, MaxLossIncrease: DefaultMaxLossIncrease}
}

// Stats summarises one metric over the repeated runs of one side.
type Stats struct {
	N                    int
	Mean, Min, Max, SDev float64
}

// StatsOf computes Stats of vs (zero Stats for none).
func StatsOf(vs []float64) Stats {
	if len(vs) == 0 {
		return Stats{}
	}
	s := Stats{N: len(vs), Min: math.Inf(1), Max: math.Inf(-1)}
	for _, v := range vs {
		s.Mean += v
		s.Min = math.Min(s.Min, v)
		s.Max = math.Max(s.Max, v)
	}
	s.Mean /= float64(len(vs))
	if len(vs) > 1 {
		var ss float64
		for _, v := range vs {
			ss += (v - s.Mean) * (v - s.Mean)
		}
		s.SDev = math.Sqrt(ss / float64(len(vs)-1))
	}
	return s
}

// Verdict is the judgement of one metric.
type Verdict string

// Verdicts, from best to worst.
const (
	Improved   Verdict = "improved"
	OK         Verdict = "ok"
	Noise      Verdict = "within noise"
	Regression Verdict = "REGRESSION"
	Unchecked  Verdict = "-"
	// WorseUnchecked is a significant worsening of a metric that is not
	// checked (the maximum): shown, never failing.
	WorseUnchecked Verdict = "worse (not checked)"
	// NotJudged marks every row of a pair with an invalid or overloaded
	// run on either side: its numbers do not describe the server at the
	// configured load, so no change is called improved or regressed.
	NotJudged Verdict = "not judged"
)

// Row is one metric of one pair.
type Row struct {
	Metric   Metric
	Old, New Stats
	// Delta is (new-old)/old, or NaN when old is 0; for loss it is the
	// difference in percentage points.
	Delta   float64
	Verdict Verdict
}

// Result is the judgement of one pair.
type Result struct {
	Pair Pair
	Rows []Row
	// Unjudged lists why the pair was not judged (a run on either side
	// invalid or its generator overloaded); empty when it was.
	Unjudged []string
}

// Regressed reports whether any row of r is a regression.
func (r Result) Regressed() bool {
	for _, row := range r.Rows {
		if row.Verdict == Regression {
			return true
		}
	}
	return false
}

// Judge compares both sides of p metric by metric. Pairs with a missing
// side get no rows.
func Judge(p Pair, o Options) Result {
	res := Result{Pair: p}
	if len(p.Old) == 0 || len(p.New) == 0 {
		return res
	}
	res.Unjudged = append(unjudgeable("OLD", p.Old), unjudgeable("NEW", p.New)...)
	for _, m := range append(Metrics[:len(Metrics):len(Metrics)], roomMetrics(p)...) {
		if m.Has != nil && !(all(p.Old, m.Has) && all(p.New, m.Has)) {
			continue
		}
		olds := make([]float64, len(p.Old))
		for i, r := range p.Old {
			olds[i] = m.Get(r)
		}
		news := make([]float64, len(p.New))
		for i, r := range p.New {
			news[i] = m.Get(r)
		}
		row := Row{Metric: m, Old: StatsOf(olds), New: StatsOf(news)}
		row.Delta, row.Verdict = judgeRow(m, row.Old, row.New, o)
		if len(res.Unjudged) > 0 {
			row.Verdict = NotJudged
		}
		res.Rows = append(res.Rows, row)
	}
	return res
}

// judgeRow returns the delta and verdict of one metric. A change is
// significant when it passes the relative threshold (and the absolute floor
// for latency); a significant change whose old and new min–max ranges
// overlap is within the noise of the repeated runs.
func judgeRow(m Metric, old, new Stats, o Options) (float64, Verdict) {
	diff := new.Mean - old.Mean
	delta := math.NaN()
	if old.Mean != 0 {
		delta = diff / old.Mean
	} else if new.Mean == 0 {
		delta = 0
	}
	worse := diff
	if m.Worse == LowerIsWorse {
		worse = -diff
	}
	var significant bool
	if m.Loss {
		delta = diff
		significant = math.Abs(diff) > o.MaxLossIncrease
	} else {
		rel := math.Inf(1)
		if old.Mean != 0 {
			rel = math.Abs(diff / old.Mean)
		} else if diff == 0 {
			rel = 0
		}
		significant = rel > o.MaxRegress
		if m.Latency && math.Abs(diff) < o.MinDeltaMs {
			significant = false
		}
	}
	switch {
	case !significant && !m.Checked:
		return delta, Unchecked
	case !significant:
		return delta, OK
	case old.Min <= new.Max && new.Min <= old.Max:
		return delta, Noise
	case !m.Checked && worse > 0:
		return delta, WorseUnchecked
	case worse > 0 && m.Checked:
		return delta, Regression
	default:
		return delta, Improved
	}
}

// unjudgeable returns why the runs of one side cannot be judged: an
// invalid run measured something other than the configured load, and an
// overloaded generator did not offer it (its latencies include its own
// lateness).
func unjudgeable(side string, rs []*report.Report) []string {
	var why []string
	for i, r := range rs {
		name := side
		if len(rs) > 1 {
			name = fmt.Sprintf("%s run %d", side, i+1)
		}
		if !r.Valid {
			reason := "marked invalid"
			if len(r.InvalidReasons) > 0 {
				reason = r.InvalidReasons[0]
			}
			why = append(why, fmt.Sprintf("%s is invalid: %s", name, reason))
		}
		if r.Generator.Overloaded {
			why = append(why, fmt.Sprintf("%s is OVERLOADED: its generator fell %.1f ms behind the timetable (limit %.1f ms), so the offered load was not held; re-run with fewer clients per generator process (--procs) or a larger --max-send-lag", name, r.Generator.MaxSendLagMs, r.Generator.MaxSendLagLimitMs))
		}
	}
	return why
}

func all(rs []*report.Report, f func(*report.Report) bool) bool {
	for _, r := range rs {
		if !f(r) {
			return false
		}
	}
	return true
}
