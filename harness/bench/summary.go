package bench

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Summary renders summary.md: capacity, memory per connection, the matrix,
// every capacity step and the plots.
func Summary(res Results, cfg Config, charts []Chart) string {
	var b strings.Builder
	m := res.Machine
	fmt.Fprintf(&b, "# wsbench results: %s, %s\n\n", m.Host, m.Started.Format(time.RFC3339))
	fmt.Fprintf(&b, "%s, %d cores, Linux %s, %s, Node %s, commit %s.  \n", m.CPUModel, m.Cores, m.Kernel, m.Go, m.Node, m.Commit)
	fmt.Fprintf(&b, "CPU split: %s.\n\n", m.Split)
	b.WriteString("Columns: *loadgen CPU* is the loadgen's CPU time over the run's wall time (near 100 %: the generator's core was the limit); *send lag* the loadgen's largest delay behind its timetable; *other load* the busy share of the server's or loadgen's CPU taken by other processes during the run (a shared machine: above ~20 % the run is noisy).\n\n")
	fmt.Fprintf(&b, "Each run starts a fresh server on 127.0.0.1; the loadgen sends binary broadcasts on a fixed timetable (open model) and measures latency from the intended send time. Shared machine: treat differences under ~10 %% as noise unless repeated (--repeat).\n\n")
	if cfg.QuietWait > 0 {
		var waited float64
		for _, r := range res.Runs {
			waited += r.QuietWaitS
		}
		fmt.Fprintf(&b, "Each step first waited up to %s for other processes to use under %.0f %% of either CPU (%.0f s of waiting in all).\n\n", cfg.QuietWait, 100*cfg.QuietBelow, waited)
	}
	if noisy, total := noisyRuns(res); noisy > 0 {
		fmt.Fprintf(&b, "**Noisy machine**: in %d of %d runs other processes took over 30 %% of the server's or the loadgen's CPU (column *other load*). Latency tails and capacities here are pessimistic for both servers; rerun on a quiet machine before quoting absolute numbers.\n\n", noisy, total)
	}
	if res.Aborted != "" {
		fmt.Fprintf(&b, "**The bench stopped early: %s.** The tables hold what was measured before.\n\n", res.Aborted)
	}

	if len(res.Capacity) > 0 {
		fmt.Fprintf(&b, "## Capacity at p99 < %g ms with no loss\n\n", res.SLOMs)
		b.WriteString("Capacity is the median of the repeated searches (--cap-repeat), with their min–max; the other columns are the median search's. *CPU µs/delivery* is the server's CPU time over the measured window per delivery at the best step: on a shared machine it moves far less than latency or capacity.\n\n")
		b.WriteString("| server | clients | size | capacity (deliveries/s) | min–max (searches) | broadcasts/s | p99 there (ms) | server CPU µs/delivery | first failing rate | why it failed | steps | search stopped |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|\n")
		for _, c := range res.Capacity {
			fail, why := "–", "–"
			if c.FailedRate > 0 {
				fail = fmtRate(c.FailedRate) + "/s"
				why = c.FailWhy
				if c.GeneratorBound {
					why += " (the loadgen was saturated or fell behind its timetable there: the server may carry more)"
				}
			}
			capacity, rate, p99 := si(c.DeliveriesPerS), fmtRate(c.BestRate), ms(c.P99Ms)
			if c.BestRate == 0 {
				capacity, rate, p99 = "< "+si(c.FailedRate*float64(c.Clients)), "–", "–"
			}
			spread := "–"
			if len(c.Searches) > 1 {
				spread = fmt.Sprintf("%s–%s (%d)", si(c.MinDeliveriesPerS), si(c.MaxDeliveriesPerS), len(c.Searches))
			}
			fmt.Fprintf(&b, "| %s | %d | %d B | **%s** | %s | %s | %s | %s | %s | %s | %d | %s |\n",
				c.Server, c.Clients, c.Size, capacity, spread, rate, p99, us(c.CPUUsPerDelivery), fail, why, c.Steps, c.Limit)
		}
		if o, n := capOf(res, Ours), capOf(res, Node); o != nil && n != nil {
			switch {
			case n.DeliveriesPerS > 0:
				fmt.Fprintf(&b, "\nours / node capacity: **%.1f×** (aim: ≥ 5×)\n", o.DeliveriesPerS/n.DeliveriesPerS)
			case o.DeliveriesPerS > 0:
				b.WriteString("\nours / node capacity: node passed no step, so no ratio (aim: ≥ 5×)\n")
			}
		}
		b.WriteString("\n")
	}

	if len(res.Idle) > 0 {
		fmt.Fprintf(&b, "## Memory per idle connection\n\n")
		b.WriteString("| server | connections | RSS before | RSS after | KiB per connection | goroutines before → after |\n")
		b.WriteString("|---|---:|---:|---:|---:|---|\n")
		for _, i := range res.Idle {
			g := "–"
			if i.GoroutinesAfter > 0 {
				g = fmt.Sprintf("%d → %d", i.GoroutinesBefore, i.GoroutinesAfter)
			}
			conns := fmt.Sprintf("%d", i.Conns)
			if i.Failed > 0 {
				conns += fmt.Sprintf(" (%d failed: %s)", i.Failed, i.Note)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | **%.2f** | %s |\n", i.Server, conns, kib(i.RSSBeforeKiB), kib(i.RSSAfterKiB), i.KiBPerConn, g)
		}
		if o, n := idleOf(res, Ours), idleOf(res, Node); o != nil && n != nil && o.KiBPerConn > 0 {
			fmt.Fprintf(&b, "\nnode / ours memory per connection: **%.1f×** less for ours (aim: ≥ 3×)\n", n.KiBPerConn/o.KiBPerConn)
		}
		b.WriteString("\n")
	}

	floorTable(&b, res)
	if p := res.Profile; p != nil {
		fmt.Fprintf(&b, "## CPU profile of ours at %s deliveries/s (%d clients × %s/s)\n\n", si(float64(p.Clients)*p.Rate), p.Clients, fmtRate(p.Rate))
		if p.Err != "" {
			fmt.Fprintf(&b, "Profiling failed: %s\n\n", p.Err)
		} else {
			fmt.Fprintf(&b, "`%s` (`go tool pprof -top`, first lines; full list in profile-ours.txt):\n\n```\n%s```\n\n", p.Path, firstLines(p.Top, 22))
		}
	}
	if hasKind(res, "matrix") {
		fmt.Fprintf(&b, "## Matrix (%s measured after %s warmup; latency in ms)\n\n", cfg.Duration, cfg.Warmup)
		runTable(&b, res, "matrix")
		cpuPerDelivery(&b, res)
	}
	if hasKind(res, "capacity") {
		fmt.Fprintf(&b, "## Capacity search steps (%s each after %s warmup)\n\n", cfg.CapDuration, cfg.CapWarmup)
		runTable(&b, res, "capacity")
	}
	if len(charts) > 0 {
		b.WriteString("## Plots\n\n")
		for _, c := range charts {
			fmt.Fprintf(&b, "![%s](%s)  \n%s\n\n", c.Caption, c.Path, c.Caption)
		}
	}
	b.WriteString("## Files\n\n")
	b.WriteString("`matrix/<server>/c<clients>-r<rate>-s<size>-<repeat>.{json,hgrm,log}` and `capacity/<server>/stepNN-….{json,hgrm,log}` are the loadgen reports, HdrHistogram percentile files and loadgen logs; `runs.json` holds every run with the server's peak RSS (VmHWM), CPU seconds (utime+stime) and goroutines; `logs/` the server logs; `machine.txt` the machine.\n\n")
	b.WriteString("Compare with another run: `go run ./loadgen compare results/baseline <this directory>`; draw any reports: `go run ./loadgen plot <reports…> -o latency.png`.\n")
	return b.String()
}

func runTable(b *strings.Builder, res Results, kind string) {
	b.WriteString("| server | clients | rate/s | size | offered/s | p50 | p99 | p99.9 | max | delivered/s | lost | server peak RSS | server CPU s | server CPU µs/delivery | goroutines | loadgen CPU | send lag ms | other load | result |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range res.Runs {
		if r.Kind != kind {
			continue
		}
		result := "pass"
		if !r.Pass {
			result = "fail: " + r.Why
		}
		g := "–"
		if r.ServerUsage.MaxGoroutines > 0 {
			g = fmt.Sprintf("%d", r.ServerUsage.MaxGoroutines)
		}
		name := r.Server
		switch {
		case r.Step > 0 && r.Repeat > 0 && kind == "capacity":
			name = fmt.Sprintf("%s #%d.%d", r.Server, r.Repeat, r.Step)
		case r.Step > 0:
			name = fmt.Sprintf("%s #%d", r.Server, r.Step)
		}
		fmt.Fprintf(b, "| %s | %d | %s | %d | %s | %s | %s | %s | %s | %s | %d | %s | %.1f | %s | %s | %.0f%% | %s | %.0f%% | %s |\n",
			name, r.Clients, fmtRate(r.Rate), r.Size, si(r.OfferedPerS), ms(r.Latency.P50), ms(r.Latency.P99), ms(r.Latency.P999), ms(r.Latency.Max),
			si(r.DeliveredPerS), r.Lost, kib(r.ServerUsage.PeakRSSKiB), r.ServerUsage.CPUSeconds, us(r.ServerUsage.CPUUsPerDelivery), g, 100*r.LoadgenBusy(), ms(r.MaxSendLagMs), 100*r.OtherLoad(), result)
	}
	b.WriteString("\n")
}

func hasKind(res Results, kind string) bool {
	for _, r := range res.Runs {
		if r.Kind == kind {
			return true
		}
	}
	return false
}

func capOf(res Results, s string) *CapacityRecord {
	for i := range res.Capacity {
		if res.Capacity[i].Server == s {
			return &res.Capacity[i]
		}
	}
	return nil
}

func idleOf(res Results, s string) *IdleResult {
	for i := range res.Idle {
		if res.Idle[i].Server == s && res.Idle[i].Conns > 0 {
			return &res.Idle[i]
		}
	}
	return nil
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "")
}

// noisyRuns counts runs in which other processes took over 30 % of a
// measured CPU.
func noisyRuns(res Results) (noisy, total int) {
	for _, r := range res.Runs {
		total++
		if r.OtherLoad() > 0.3 {
			noisy++
		}
	}
	return noisy, total
}

// cpuPerDelivery writes each server's CPU µs per delivery over the matrix
// runs that measured it: the median and the range.
func cpuPerDelivery(b *strings.Builder, res Results) {
	per := map[string][]float64{}
	var order []string
	for _, r := range res.Runs {
		if r.Kind != "matrix" || r.ServerUsage.CPUUsPerDelivery <= 0 {
			continue
		}
		if _, ok := per[r.Server]; !ok {
			order = append(order, r.Server)
		}
		per[r.Server] = append(per[r.Server], r.ServerUsage.CPUUsPerDelivery)
	}
	if len(order) == 0 {
		return
	}
	b.WriteString("Server CPU µs per delivery over the matrix runs (median, min–max):")
	for _, s := range order {
		v := per[s]
		slices.Sort(v)
		fmt.Fprintf(b, " %s **%s** (%s–%s, %d runs);", s, us(v[(len(v)-1)/2]), us(v[0]), us(v[len(v)-1]), len(v))
	}
	b.WriteString("\n\n")
}

// floorTable compares each server's CPU per delivery in the matrix with the
// bare-write floor at the nearest rate: how far each is from one write(2)
// per delivery and nothing else.
func floorTable(b *strings.Builder, res Results) {
	if len(res.Floor) == 0 {
		return
	}
	f0 := res.Floor[0]
	b.WriteString("## Server CPU per delivery against the floor\n\n")
	fmt.Fprintf(b, "The floor is a bare non-blocking write(2) of one %d-byte frame to each of %d loopback TCP sockets in turn, with their readers draining on the loadgen's CPU: no framing, locking, queueing or timers, only the system call a server needs per delivery (and the timer wake-ups between bursts). Measured on the server's CPU:", f0.FrameBytes, f0.Sockets)
	for _, f := range res.Floor {
		fmt.Fprintf(b, " **%.2f µs** per write at %s writes/s (%d of %s writes short", f.CPUUsPerWrite, si(f.Rate), f.Short, si(float64(f.Writes)))
		if f.MaxLagMs > 10 {
			fmt.Fprintf(b, "; the writer fell up to %s ms behind: one CPU could not write that fast", ms(f.MaxLagMs))
		}
		b.WriteString(");")
	}
	b.WriteString(" *× floor* divides a server's CPU µs per delivery by the floor at the nearest rate (for frames of the floor's size only). Below 1× a server made fewer system calls than deliveries: frames queued behind a busy socket go out together in one writev, which happens under overload.\n\n")
	type cell struct {
		server        string
		clients, size int
		rate, offered float64
	}
	per := map[cell][]float64{}
	var order []cell
	for _, r := range res.Runs {
		if r.Kind != "matrix" || r.ServerUsage.CPUUsPerDelivery <= 0 {
			continue
		}
		k := cell{r.Server, r.Clients, r.Size, r.Rate, r.OfferedPerS}
		if _, ok := per[k]; !ok {
			order = append(order, k)
		}
		per[k] = append(per[k], r.ServerUsage.CPUUsPerDelivery)
	}
	if len(order) == 0 {
		b.WriteString("No matrix run measured the server's CPU per delivery.\n\n")
		return
	}
	slices.SortStableFunc(order, func(x, y cell) int {
		if c := cmp.Compare(x.offered, y.offered); c != 0 {
			return c
		}
		return cmp.Compare(float64(x.size), float64(y.size))
	})
	b.WriteString("| server | clients × rate/s | size | offered deliveries/s | server CPU µs/delivery (median, runs) | × floor |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|\n")
	for _, k := range order {
		v := per[k]
		slices.Sort(v)
		med := v[(len(v)-1)/2]
		x := "–"
		if f := FloorAt(res.Floor, k.offered); f != nil && k.size+2 == f.FrameBytes {
			x = fmt.Sprintf("**%.1f×**", med/f.CPUUsPerWrite)
		}
		fmt.Fprintf(b, "| %s | %d × %s | %d B | %s | %s (%d) | %s |\n", k.server, k.clients, fmtRate(k.rate), k.size, si(k.offered), us(med), len(v), x)
	}
	b.WriteString("\n")
}
