package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/loadgen/run"
	"github.com/wsbench/wsbench/loadgen/shard"
)

// Defaults of Controller.
const (
	DefaultDiscoverWait = 30 * time.Second
	// StartLead is how far in the future the common start is set, beyond
	// the slowest start message's round trip.
	StartLead = 300 * time.Millisecond
	// ResultGrace is how long after the run's planned end the controller
	// waits for results.
	ResultGrace = 30 * time.Second
)

// ErrNoAgents is returned when fewer agents than asked for answered.
var ErrNoAgents = errors.New("not enough idle agents")

// Controller runs one load across agents.
type Controller struct {
	NATS         string        // NATS server URL
	Agents       int           // how many agents share the run
	DiscoverWait time.Duration // wait this long for enough idle agents; 0 = DefaultDiscoverWait
	Log          io.Writer     // progress; nil = none
	// URLs, when set, replace the run's URL: agent i loads URLs[i%len]
	// (for example one server node each). The report keeps cfg.URL.
	URLs []string
	// SenderAgents puts every sender on the first SenderAgents agents
	// (0 = spread over all), so that the other agents only receive: their
	// reports then show the latency of one path (e.g. across nodes).
	SenderAgents int
}

// Outcome is a controller run: the merged report, each agent's report and
// measured clock, in the same order.
type Outcome struct {
	Report *report.Report
	Parts  []*report.Report
	Clocks []Clock
}

// Run splits cfg over c.Agents agents, runs it and merges the reports.
// Cancelling ctx aborts the agents; their partial reports are still merged.
// The phases, in order: discover idle agents, measure their clocks, plan
// the shares (shard.Plan), hand each agent its job, wait for every ramp,
// start all at one instant, collect the results, merge.
func (c *Controller) Run(ctx context.Context, cfg run.Config) (*Outcome, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if c.Agents < 1 || c.Agents > cfg.Clients {
		return nil, fmt.Errorf("%w: --agents %d: want 1 up to --clients %d", run.ErrUsage, c.Agents, cfg.Clients)
	}
	if c.NATS == "" {
		return nil, fmt.Errorf("%w: --agents needs --nats nats://HOST:PORT (where the agents wait)", run.ErrUsage)
	}
	nc, err := nats.Connect(c.NATS, nats.Name("wsbench-controller"))
	if err != nil {
		return nil, fmt.Errorf("controller: connect %s: %w", c.NATS, err)
	}
	defer nc.Close()

	hellos, err := c.discover(ctx, nc)
	if err != nil {
		return nil, err
	}
	clocks, offsets, err := measureClocks(nc, hellos)
	if err != nil {
		return nil, err
	}
	specs, senders, err := shard.Plan{Parts: len(hellos), SenderParts: c.SenderAgents, URLs: c.URLs}.Specs(cfg)
	if err != nil {
		return nil, err
	}
	specs[0].Progress = true
	s, err := c.open(nc, hellos)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if err := s.hand(specs, clocks); err != nil {
		return nil, err
	}
	c.logf("controller: %d agents accepted run %s (%d clients, %d senders)", len(hellos), s.token, cfg.Clients, senders)
	total, err := s.awaitReady(ctx, cfg)
	if err != nil {
		return nil, err
	}
	startAt := s.start(total, clocks, offsets)
	c.logf("controller: %d connections established; start at %s", total, startAt.UTC().Format("15:04:05.000"))
	stopAbort := context.AfterFunc(ctx, s.abortAll)
	defer stopAbort()
	results, missing := s.collect(time.Until(startAt) + cfg.Warmup + cfg.Duration + cfg.Drain + run.CloseWait + ResultGrace)
	return c.outcome(ctx, cfg, results, missing, clocks, offsets)
}

// measureClocks takes ClockSamples round trips to each agent and returns
// each one's clock and the offsets to apply: none when every offset lies
// within its bound (one clock: agents on this machine).
func measureClocks(nc *nats.Conn, hellos []Hello) ([]Clock, []time.Duration, error) {
	clocks := make([]Clock, len(hellos))
	for i, h := range hellos {
		samples, err := measureClock(nc, h.ID, ClockSamples, 2*time.Second)
		if err != nil {
			return nil, nil, err
		}
		off, bound, _ := BestOffset(samples)
		_, rtt := samples[0].Offset()
		for _, s := range samples {
			if _, r := s.Offset(); r < rtt {
				rtt = r
			}
		}
		clocks[i] = Clock{ID: h.ID, Host: h.Host, OffsetMs: ms(off), BoundMs: ms(bound), RTTMs: ms(rtt)}
	}
	oneClock := true
	for _, k := range clocks {
		if math.Abs(k.OffsetMs) > k.BoundMs {
			oneClock = false
		}
	}
	offsets := make([]time.Duration, len(clocks))
	for i := range clocks {
		clocks[i].Corrected = !oneClock
		if !oneClock {
			offsets[i] = time.Duration(clocks[i].OffsetMs * 1e6)
		}
	}
	return clocks, offsets, nil
}

// outcome merges the agents' results (shard.Merge, receipts shifted by
// the offsets) and adds what only the controller knows: missing agents,
// the agents' errors, the clocks, an interrupt.
func (c *Controller) outcome(ctx context.Context, cfg run.Config, results []*Result, missing []string, clocks []Clock, offsets []time.Duration) (*Outcome, error) {
	parts := make([]*shard.Result, len(results))
	for i, r := range results {
		if r != nil {
			parts[i] = &r.Result
		}
	}
	rep, err := shard.Merge(cfg, parts, offsets, func(i int) string { return "agent " + results[i].ID })
	if errors.Is(err, shard.ErrNoResults) {
		return nil, errors.New("no agent returned a report")
	}
	if err != nil {
		return nil, err
	}
	out := &Outcome{Report: rep, Clocks: clocks}
	for _, p := range parts {
		if p != nil {
			out.Parts = append(out.Parts, p.Report)
		} else {
			out.Parts = append(out.Parts, nil)
		}
	}
	g := &rep.Generator
	if len(missing) > 0 {
		g.Warnings = append(g.Warnings, fmt.Sprintf("no result from agents %s: the report covers the others only", strings.Join(missing, ", ")))
	}
	for _, r := range results {
		if r != nil && r.Error != "" {
			g.Warnings = append(g.Warnings, fmt.Sprintf("agent %s: %s", r.ID, r.Error))
		}
	}
	if w := ClockWarning(clocks); w != "" {
		g.Warnings = append(g.Warnings, w)
	}
	if rep.Connections.Established == 0 {
		return out, run.ErrNoConnection
	}
	if ctx.Err() != nil {
		g.Warnings = append(g.Warnings, "run interrupted: the report covers the part measured before the interrupt")
	}
	return out, nil
}

// ClockWarning returns a warning when deliveries between agents may carry
// more than a millisecond of clock error: the largest |offset_i − offset_j|
// plus both bounds.
func ClockWarning(clocks []Clock) string {
	worst := 0.0
	for i := range clocks {
		for j := range clocks {
			if i != j {
				worst = max(worst, math.Abs(clocks[i].OffsetMs-clocks[j].OffsetMs)+clocks[i].BoundMs+clocks[j].BoundMs)
			}
		}
	}
	if worst <= 1 {
		return ""
	}
	return fmt.Sprintf("agents' clocks differ: a latency between two agents may be off by up to %.2f ms (see generator.agents); sync the clocks (NTP/PTP) for sub-millisecond results", worst)
}

func (c *Controller) discover(ctx context.Context, nc *nats.Conn) ([]Hello, error) {
	wait := c.DiscoverWait
	if wait == 0 {
		wait = DefaultDiscoverWait
	}
	inbox := nats.NewInbox()
	ch := make(chan *nats.Msg, 256)
	sub, err := nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	seen := map[string]bool{}
	var out []Hello
	_ = nc.PublishRequest(subjDiscover, inbox, nil)
	for len(out) < c.Agents {
		select {
		case m := <-ch:
			var h Hello
			if json.Unmarshal(m.Data, &h) == nil && h.ID != "" && !seen[h.ID] {
				seen[h.ID] = true
				out = append(out, h)
			}
		case <-tick.C:
			_ = nc.PublishRequest(subjDiscover, inbox, nil)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			return nil, fmt.Errorf("%w: %d of %d answered on %s within %v (start them with `loadgen agent --nats %s`)", ErrNoAgents, len(out), c.Agents, c.NATS, wait, c.NATS)
		}
	}
	return out, nil
}

func (c *Controller) logf(format string, v ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", v...)
	}
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
