package bench

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"time"
)

// Probe runs one step of a capacity search at rate and reports whether it
// met the SLO without loss.
type Probe func(ctx context.Context, step int, rate float64) (pass bool, err error)

// SearchResult is the outcome of a capacity search.
type SearchResult struct {
	Best   float64 // highest passing rate; 0 when none passed
	Failed float64 // lowest failing rate above Best; 0 when none failed
	Steps  int
	// Limit says why the search stopped: "converged" (fail/pass within
	// tolerance), "steps" (out of steps), "floor" (even the lowest rate
	// failed) or "ceiling" (never failed below maxRate).
	Limit string
}

// Search finds the highest passing rate: from start it doubles while steps
// pass (halves while they fail), then bisects geometrically between the
// highest pass and lowest fail until they are within tolerance (0.15 =
// 15 %) or maxSteps probes have run. Rates are rounded to 2 significant
// digits so that step names stay readable.
func Search(ctx context.Context, start, minRate, maxRate float64, maxSteps int, tolerance float64, probe Probe) (SearchResult, error) {
	var res SearchResult
	rate := start
	for res.Steps < maxSteps {
		res.Steps++
		pass, err := probe(ctx, res.Steps, rate)
		if err != nil {
			return res, err
		}
		if pass {
			res.Best = math.Max(res.Best, rate)
		} else if res.Failed == 0 || rate < res.Failed {
			res.Failed = rate
		}
		var next float64
		switch {
		case res.Failed == 0: // no failure yet: step up
			next = roundRate(rate * 2)
			if next > maxRate {
				res.Limit = "ceiling"
				return res, nil
			}
		case res.Best == 0: // no pass yet: step down
			next = roundRate(rate / 2)
			if next < minRate || next >= rate {
				res.Limit = "floor"
				return res, nil
			}
		default:
			if res.Failed/res.Best <= 1+tolerance {
				res.Limit = "converged"
				return res, nil
			}
			next = roundRate(math.Sqrt(res.Best * res.Failed))
			if next <= res.Best || next >= res.Failed {
				res.Limit = "converged"
				return res, nil
			}
		}
		rate = next
	}
	res.Limit = "steps"
	return res, nil
}

// roundRate rounds r to 2 significant digits (at least 0.1), as the
// nearest float to its decimal form (2.4, not 2.4000000000000004).
func roundRate(r float64) float64 {
	if r <= 0.1 {
		return 0.1
	}
	v, err := strconv.ParseFloat(strconv.FormatFloat(r, 'g', 2, 64), 64)
	if err != nil {
		return r
	}
	return v
}

// capacity runs the capacity search for server s.
func (b *bench) capacity(ctx context.Context, s string, l Load) error {
	var recs []RunRecord
	probe := func(ctx context.Context, step int, rate float64) (bool, error) {
		l := l
		l.Rate = rate
		name := fmt.Sprintf("step%02d-c%d-r%s-s%d", step, l.Clients, fmtRate(rate), l.Size)
		rec, err := b.measure(ctx, "capacity", s, l, filepath.Join("capacity", s, name), b.capEst)
		if err != nil {
			return false, err
		}
		rec.Step = step
		recs = append(recs, rec)
		b.res.Runs = append(b.res.Runs, rec)
		return rec.Pass, nil
	}
	maxRate := 1e6 / float64(l.Clients) * 10 // 10M deliveries/s: far beyond loopback
	// Below 20 broadcasts per step a p99 says little: it is one
	// broadcast's fan-out to every client.
	minRate := max(0.1, 20/l.Duration.Seconds())
	sr, err := Search(ctx, l.Rate, minRate, maxRate, b.cfg.CapMaxSteps, b.cfg.CapTolerance, probe)
	if left := b.cfg.CapMaxSteps - sr.Steps; left > 0 {
		b.prog.Drop(left, time.Duration(left)*b.capEst)
	}
	if err != nil {
		return err
	}
	cr := CapacityRecord{Server: s, Clients: l.Clients, Size: l.Size, BestRate: sr.Best, FailedRate: sr.Failed,
		DeliveriesPerS: sr.Best * float64(l.Clients), Steps: sr.Steps, Limit: sr.Limit}
	for _, r := range recs {
		if r.Pass && r.Rate == sr.Best {
			cr.P99Ms = r.Latency.P99
		}
		if !r.Pass && r.Rate == sr.Failed {
			cr.FailWhy = r.Why
			cr.GeneratorBound = r.Overloaded || r.LoadgenBusy() > 0.9
		}
	}
	b.res.Capacity = append(b.res.Capacity, cr)
	fmt.Fprintf(b.env.Stderr, "[bench] %s capacity: %s deliveries/s (%d clients × %s/s) at p99 %s ms; stopped: %s\n",
		s, si(cr.DeliveriesPerS), cr.Clients, fmtRate(cr.BestRate), ms(cr.P99Ms), cr.Limit)
	return nil
}
