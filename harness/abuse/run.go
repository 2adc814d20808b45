package abuse

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/wsbench/wsbench/harness/target"
)

// scenarios lists every scenario in the order of a full run.
func scenarios() []Scenario {
	return []Scenario{
		{Name: "handshake-hold", Description: "TCP connections that never finish the handshake (slowloris)", Run: handshakeHold},
		{Name: "slowloris", Description: "stalled requests held and re-opened as closed, while a newcomer joins and chats every 100 ms", Run: slowloris},
		{Name: "slow-readers", Description: "upgraded connections that never read while broadcasts flow", Run: slowReaders},
		{Name: "slow-1", Description: "1 member of the probe's room stops reading", RoomProbe: true, Run: slowRoom(1)},
		{Name: "slow-10pct", Description: "10 % of the probe's room stop reading", RoomProbe: true, Run: slowRoom(10)},
		{Name: "huge-length", Description: "frame headers declaring 2^63 (and 2^63-1, 2^64-1) bytes", Run: hugeLength},
		{Name: "gigabyte", Description: "a 1 GiB message, as one frame and as fragments", Run: gigabyte},
		{Name: "partial-messages", Description: "connections holding a declared 64 KiB frame after its first 1 KiB", Run: partialMessages},
		{Name: "invalid-utf8", Description: "invalid UTF-8 text messages, one per connection and floods", Run: invalidUTF8},
		{Name: "ping-flood", Description: "pings back to back, half the flooders never read the pongs", Run: pingFlood},
		{Name: "churn", Description: "rapid connect/close with clean closes, resets and cut requests", Run: churn},
		{Name: "reconnect-storm", Description: "clients of an in-process server reconnect (full-jitter backoff) after it restarts", NoProbe: true, Run: reconnectStorm},
	}
}

// ScenarioNames returns the names of every scenario, in run order.
func ScenarioNames() []string {
	var out []string
	for _, s := range scenarios() {
		out = append(out, s.Name)
	}
	return out
}

// env is what a scenario may use.
type env struct {
	cfg    Config
	target *Target
	logf   func(format string, args ...any)
}

// dialer returns a dialer from loopback source number k.
func (e *env) dialer(k int) dialer {
	return dialer{target: e.target, source: sourceIP(e.target, k)}
}

// Run measures a clean probe, then runs each selected scenario with the
// probe beside it, and judges it. Progress lines go to w. The error is
// for runs that could not start (bad target, no server); failed scenarios
// are in the Report (Report.Pass).
func Run(ctx context.Context, cfg Config, w io.Writer) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t, err := NewTarget(cfg.URL)
	if err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(w, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
	e := &env{cfg: cfg, target: t, logf: logf}
	if err := t.HealthzWithin(ctx, 5*time.Second); err != nil {
		return nil, fmt.Errorf("server at %s is not healthy before the run: %w", t.HostPort, err)
	}
	rep := &Report{Tool: "wsbench-abuse", Started: time.Now().UTC(), URL: cfg.URL, ServerPID: cfg.ServerPID, Pass: true}
	rep.Config = reportConfig(cfg)
	if cfg.ServerPID != 0 {
		if m, err := target.ReadMemory(cfg.ServerPID); err == nil {
			rep.RSSStartMiB = mib(m.RSS)
		} else {
			return nil, fmt.Errorf("--server-pid %d: %w", cfg.ServerPID, err)
		}
	}
	selected := scenarios()
	if len(cfg.Scenarios) > 0 {
		byName := map[string]Scenario{}
		for _, s := range selected {
			byName[s.Name] = s
		}
		selected = selected[:0]
		for _, n := range cfg.Scenarios {
			selected = append(selected, byName[n])
		}
	}
	needRoom := false
	for _, s := range selected {
		needRoom = needRoom || s.RoomProbe
	}
	// Clean runs first, in the same invocation, as the reference.
	probeDialer := dialer{target: t}
	clean := func(pc ProbeConfig) (ProbeResult, error) {
		p, err := startProbe(ctx, probeDialer, pc)
		if err != nil {
			return ProbeResult{}, err
		}
		sleepCtx(ctx, cfg.CleanDuration)
		r := p.Stop()
		logf("clean probe %s: p50 %.2f ms p99 %.2f ms (%d/%d received)", pc.Room, r.P50ms, r.P99ms, r.Received, r.Expected)
		return r, nil
	}
	if rep.Clean, err = clean(cfg.Probe); err != nil {
		return nil, err
	}
	if needRoom {
		if rep.CleanRoom, err = clean(cfg.RoomProbe); err != nil {
			return nil, err
		}
	}
	for _, s := range selected {
		if ctx.Err() != nil {
			break
		}
		res := runScenario(ctx, e, s, rep)
		rep.Scenarios = append(rep.Scenarios, res)
		rep.Pass = rep.Pass && res.Pass
		if s.NoProbe {
			logf("%s: %s %s", s.Name, res.Verdict(), FormatCodes(res.Outcome.Codes))
		} else {
			logf("%s: %s (probe p99 %.2f ms, ratio %.2f) %s", s.Name, res.Verdict(), res.Probe.P99ms, res.Ratio, FormatCodes(res.Outcome.Codes))
		}
		for _, f := range res.Failures {
			logf("  %s", f)
		}
		for _, n := range res.Notes {
			logf("  note: %s", n)
		}
		if res.ServerDown {
			logf("server is down: stopping")
			break
		}
		// Let the server settle (closing handshakes, TIME_WAIT) before
		// the next scenario starts.
		sleepCtx(ctx, min(time.Second, cfg.Window/2))
	}
	// A clean run at the end shows how much the machine itself drifted
	// (other processes, thermal state) over the run: a reader can tell a
	// noisy machine from a server that suffers.
	if ctx.Err() == nil && len(rep.Scenarios) > 0 && !rep.Scenarios[len(rep.Scenarios)-1].ServerDown {
		if r, err := clean(cfg.Probe); err == nil {
			rep.CleanAfter = &r
		}
	}
	rep.Finished = time.Now().UTC()
	if cfg.ServerPID != 0 {
		if m, err := target.ReadMemory(cfg.ServerPID); err == nil {
			rep.HWMMiB = mib(m.HWM)
		}
	}
	if ctx.Err() != nil {
		rep.Pass = false
		rep.Interrupted = true
	}
	return rep, nil
}

func runScenario(ctx context.Context, e *env, s Scenario, rep *Report) ScenarioResult {
	res := ScenarioResult{Name: s.Name, Description: s.Description}
	pc, ref := e.cfg.Probe, rep.Clean
	if s.RoomProbe {
		pc, ref = e.cfg.RoomProbe, rep.CleanRoom
	}
	if !s.NoProbe {
		// The reference is a clean run of the same probe just before the
		// scenario, under the same placement: on a machine shared with
		// other work, the first clean run of the program can be minutes
		// and a different background load away.
		if p, err := startProbe(ctx, dialer{target: e.target}, pc); err == nil {
			sleepCtx(ctx, e.cfg.CleanDuration)
			if r := p.Stop(); r.Err == "" && r.Received > 0 {
				ref = r
				e.logf("%s: clean probe just before: p50 %.2f ms p99 %.2f ms", s.Name, r.P50ms, r.P99ms)
			}
		}
	}
	res.CleanP99ms = ref.P99ms
	before, _ := e.target.Scrape(ctx)
	load := startLoad(e.cfg.ServerPID, e.cfg.ServerCPU, e.cfg.ProbeCPU)
	rss := target.StartPeakRSS(e.cfg.ServerPID, 100*time.Millisecond)
	start := time.Now()
	var p *probe
	if !s.NoProbe {
		var err error
		if p, err = startProbe(ctx, dialer{target: e.target}, pc); err != nil {
			res.Failures = append(res.Failures, "probe could not start: "+err.Error())
		}
	}
	e.logf("%s: %s", s.Name, s.Description)
	res.Outcome = s.Run(ctx, e)
	if p != nil {
		res.Probe = p.Stop()
	}
	res.Seconds = time.Since(start).Seconds()
	res.OtherServerCPUPct = load.otherPct()
	res.ProbeCPUBusyPct = load.probeBusyPct()
	peak, rssErr := rss.Stop()
	res.PeakRSSMiB = mib(peak)

	if err := e.target.HealthzWithin(ctx, 5*time.Second); err != nil {
		res.ServerDown = true
		res.Failures = append(res.Failures, "after the scenario: "+err.Error())
	}
	if e.cfg.ServerPID != 0 && rssErr != nil {
		if _, err := target.ReadMemory(e.cfg.ServerPID); err != nil {
			res.ServerDown = true
			res.Failures = append(res.Failures, fmt.Sprintf("server process %d is gone: %v", e.cfg.ServerPID, err))
		}
	}
	after, _ := e.target.Scrape(ctx)
	res.ServerCloseCodes = CloseCodesSent(before, after)
	res.Failures = append(res.Failures, res.Outcome.Failures...)

	if len(res.Outcome.LatencyFailures) > 0 {
		if why := noisy(e.cfg, res); why != "" {
			for _, f := range res.Outcome.LatencyFailures {
				res.Notes = append(res.Notes, f+", but "+why+": not judged")
			}
		} else {
			res.Failures = append(res.Failures, res.Outcome.LatencyFailures...)
		}
	}
	if p != nil {
		limit := max(e.cfg.MaxRatio*ref.P99ms, float64(e.cfg.P99Floor)/float64(time.Millisecond))
		if ref.P99ms > 0 {
			res.Ratio = res.Probe.P99ms / ref.P99ms
		}
		switch {
		case res.Probe.Err != "":
			res.Failures = append(res.Failures, "probe: "+res.Probe.Err)
		case res.Probe.Dropped > 0:
			res.Failures = append(res.Failures, fmt.Sprintf("probe: the server closed %d of its %d clients", res.Probe.Dropped, res.Probe.Connected))
		case res.Probe.P99ms > limit && noisy(e.cfg, res) != "":
			res.Notes = append(res.Notes, fmt.Sprintf("probe p99 %.2f ms exceeds %.2f ms (%.1f× clean %.2f ms), but %s: latency not judged", res.Probe.P99ms, limit, e.cfg.MaxRatio, ref.P99ms, noisy(e.cfg, res)))
		case res.Probe.P99ms > limit:
			res.Failures = append(res.Failures, fmt.Sprintf("probe p99 %.2f ms exceeds %.2f ms (%.1f× clean %.2f ms, floor %v)", res.Probe.P99ms, limit, e.cfg.MaxRatio, ref.P99ms, e.cfg.P99Floor))
		}
		if lost := res.Probe.Expected - res.Probe.Received; res.Probe.Err == "" && lost > 0 {
			res.Failures = append(res.Failures, fmt.Sprintf("probe: %d of %d messages not delivered", lost, res.Probe.Expected))
		}
	}
	if e.cfg.ServerPID != 0 && peak > e.cfg.MaxRSS {
		res.Failures = append(res.Failures, fmt.Sprintf("peak server RSS %.0f MiB exceeds %.0f MiB", mib(peak), mib(e.cfg.MaxRSS)))
	}
	res.Pass = len(res.Failures) == 0
	return res
}

// noisy says why a latency measured during the scenario is not the
// server's to answer for ("" when it is): other work took over maxOtherPct
// of the server's pinned CPU, or the probe's own CPU (shared with the
// attacker) was over maxProbeCPUPct busy.
func noisy(cfg Config, res ScenarioResult) string {
	switch {
	case res.OtherServerCPUPct > maxOtherPct:
		return fmt.Sprintf("CPU time not the server's took %.0f %% of its CPU %d meanwhile (over %.0f %%)", res.OtherServerCPUPct, cfg.ServerCPU, maxOtherPct)
	case res.ProbeCPUBusyPct > maxProbeCPUPct:
		return fmt.Sprintf("the probe's CPU %d was %.0f %% busy meanwhile (attacker and other processes; over %.0f %%)", cfg.ProbeCPU, res.ProbeCPUBusyPct, maxProbeCPUPct)
	}
	return ""
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
