package bench

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
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

// capacitySearch runs search number rep (1-based) of server s's capacity.
func (b *bench) capacitySearch(ctx context.Context, s string, l Load, rep int) (CapacitySearch, error) {
	var recs []RunRecord
	probe := func(ctx context.Context, step int, rate float64) (bool, error) {
		l := l
		l.Rate = rate
		name := fmt.Sprintf("step%02d-c%d-r%s-s%d", step, l.Clients, fmtRate(rate), l.Size)
		if b.cfg.CapRepeat > 1 {
			name = fmt.Sprintf("rep%d-%s", rep, name)
		}
		rec, err := b.measure(ctx, "capacity", s, l, filepath.Join("capacity", s, name), b.capEst)
		if err != nil {
			return false, err
		}
		rec.Step = step
		rec.Repeat = rep
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
		return CapacitySearch{}, err
	}
	cs := CapacitySearch{Repeat: rep, BestRate: sr.Best, FailedRate: sr.Failed, DeliveriesPerS: sr.Best * float64(l.Clients), Steps: sr.Steps, Limit: sr.Limit}
	for _, r := range recs {
		if r.Pass && r.Rate == sr.Best {
			cs.P99Ms = r.Latency.P99
			cs.CPUUsPerDelivery = r.ServerUsage.CPUUsPerDelivery
		}
		if !r.Pass && r.Rate == sr.Failed {
			cs.FailWhy = r.Why
			cs.GeneratorBound = r.Overloaded || r.LoadgenBusy() > 0.9
		}
	}
	fmt.Fprintf(b.env.Stderr, "[bench] %s capacity search %d/%d: %s deliveries/s (%d clients × %s/s) at p99 %s ms, %s µs CPU per delivery; stopped: %s\n",
		s, rep, b.cfg.CapRepeat, si(cs.DeliveriesPerS), l.Clients, fmtRate(cs.BestRate), ms(cs.P99Ms), us(cs.CPUUsPerDelivery), cs.Limit)
	return cs, nil
}

// Capacity combines the repeated searches of one server: the capacity is
// their median, with the min and max beside it, and every other field
// comes from that same search. Of an even count the lower middle search
// is the median (conservative, and one real search rather than a mean of
// two). One search on a shared machine varies by ±20 %; the range says
// how much.
func Capacity(server string, clients, size int, searches []CapacitySearch) CapacityRecord {
	sorted := slices.Clone(searches)
	slices.SortStableFunc(sorted, func(a, b CapacitySearch) int { return cmp.Compare(a.DeliveriesPerS, b.DeliveriesPerS) })
	cr := CapacityRecord{Server: server, Clients: clients, Size: size, Searches: searches}
	n := len(sorted)
	if n == 0 {
		return cr
	}
	mid := sorted[(n-1)/2]
	cr.BestRate, cr.FailedRate, cr.P99Ms, cr.Steps, cr.Limit = mid.BestRate, mid.FailedRate, mid.P99Ms, mid.Steps, mid.Limit
	cr.FailWhy, cr.GeneratorBound, cr.CPUUsPerDelivery = mid.FailWhy, mid.GeneratorBound, mid.CPUUsPerDelivery
	cr.DeliveriesPerS = mid.DeliveriesPerS
	cr.MinDeliveriesPerS, cr.MaxDeliveriesPerS = sorted[0].DeliveriesPerS, sorted[n-1].DeliveriesPerS
	return cr
}
