package nats

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
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
	"github.com/wsbench/wsbench/loadgen/shard/pipe"
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
	clocks := make([]Clock, len(hellos))
	for i, h := range hellos {
		samples, err := measureClock(nc, h.ID, ClockSamples, 2*time.Second)
		if err != nil {
			return nil, err
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
	// One clock (agents on this machine): every offset within its bound.
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

	// Shares, as procs splits over processes.
	senders := cfg.Senders
	if senders == 0 {
		senders = cfg.Clients
	}
	var runID uint64
	for runID == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		runID = binary.LittleEndian.Uint64(b[:])
	}
	var tb [6]byte
	_, _ = rand.Read(tb[:])
	token := hex.EncodeToString(tb[:])
	readyCh := make(chan *nats.Msg, len(hellos)*2)
	resultCh := make(chan *nats.Msg, len(hellos)*2)
	rs, err := nc.ChanSubscribe(subjReady(token), readyCh)
	if err != nil {
		return nil, err
	}
	defer rs.Unsubscribe()
	ress, err := nc.ChanSubscribe(subjResult(token), resultCh)
	if err != nil {
		return nil, err
	}
	defer ress.Unsubscribe()
	_ = ress.SetPendingLimits(-1, -1)
	if err := nc.Flush(); err != nil {
		return nil, err
	}
	clients, sends := pipe.Split(cfg.Clients, len(hellos)), pipe.Split(senders, len(hellos))
	if k := c.SenderAgents; k > 0 && k < len(hellos) {
		sends = append(pipe.Split(senders, k), make([]int, len(hellos)-k)...)
		for i := range k {
			if sends[i] > clients[i] {
				return nil, fmt.Errorf("%w: --sender-agents %d: %d senders do not fit in %d clients per agent", run.ErrUsage, k, senders, clients[i])
			}
		}
	}
	cb, sb := 0, 0
	for i, h := range hellos {
		spec := pipe.Spec{
			URL: cfg.URL, Clients: clients[i], Senders: sends[i], Rate: cfg.Rate, Size: cfg.Size,
			Duration: cfg.Duration, Warmup: cfg.Warmup, Drain: cfg.Drain, Ramp: cfg.Ramp / float64(len(hellos)),
			ConnectTimeout: cfg.ConnectTimeout, MaxSendLag: cfg.MaxSendLag, UserClock: cfg.UserClock,
			RunID: runID, SenderBase: sb, ClientBase: cb, TotalSenders: senders, Progress: i == 0,
		}
		if sends[i] == 0 {
			spec.Senders = -1
		}
		if len(c.URLs) > 0 {
			spec.URL = c.URLs[i%len(c.URLs)]
		}
		for _, ip := range cfg.SourceIPs {
			spec.SourceIPs = append(spec.SourceIPs, ip.String())
		}
		cb += clients[i]
		sb += sends[i]
		clocks[i].Clients, clocks[i].Senders = clients[i], sends[i]
		b, _ := json.Marshal(Job{Token: token, Spec: spec})
		msg, err := nc.Request(subjRun(h.ID), b, 5*time.Second)
		if err != nil || string(msg.Data) != "ok" {
			if err == nil {
				err = errors.New(string(msg.Data))
			}
			c.abort(nc, hellos[:i], token)
			return nil, fmt.Errorf("agent %s refused the run: %w", h.ID, err)
		}
	}
	c.logf("controller: %d agents accepted run %s (%d clients, %d senders)", len(hellos), token, cfg.Clients, senders)

	// Wait until every agent has ramped (or failed its ramp).
	rampWait := cfg.ConnectTimeout + ResultGrace
	if cfg.Ramp > 0 {
		rampWait += time.Duration(float64(cfg.Clients) / cfg.Ramp * float64(time.Second))
	}
	readyBy := time.NewTimer(rampWait)
	defer readyBy.Stop()
	total, got := 0, 0
	for got < len(hellos) {
		select {
		case m := <-readyCh:
			var r Ready
			if json.Unmarshal(m.Data, &r) == nil {
				total += r.Established
				got++
			}
		case <-ctx.Done():
			c.abort(nc, hellos, token)
			return nil, ctx.Err()
		case <-readyBy.C:
			c.abort(nc, hellos, token)
			return nil, fmt.Errorf("only %d of %d agents finished their ramp within %v", got, len(hellos), rampWait)
		}
	}
	// Common start, in each agent's clock.
	maxRTT := 0.0
	for _, k := range clocks {
		maxRTT = max(maxRTT, k.RTTMs)
	}
	startAt := time.Now().Add(StartLead + time.Duration(maxRTT*4*1e6))
	for i, h := range hellos {
		s := Start{UnixNs: startAt.UnixNano() + int64(offsets[i]), Abort: total == 0}
		b, _ := json.Marshal(s)
		_ = nc.Publish(subjStart(h.ID, token), b)
	}
	_ = nc.Flush()
	c.logf("controller: %d connections established; start at %s", total, startAt.UTC().Format("15:04:05.000"))

	stopAbort := context.AfterFunc(ctx, func() { c.abort(nc, hellos, token) })
	defer stopAbort()
	end := time.Until(startAt) + cfg.Warmup + cfg.Duration + cfg.Drain + run.CloseWait + ResultGrace
	endBy := time.NewTimer(end)
	defer endBy.Stop()
	results := make([]*Result, len(hellos))
	index := map[string]int{}
	for i, h := range hellos {
		index[h.ID] = i
	}
	var missing []string
	for n := 0; n < len(hellos); {
		select {
		case m := <-resultCh:
			var r Result
			if err := json.Unmarshal(m.Data, &r); err != nil {
				c.logf("controller: bad result: %v", err)
				continue
			}
			if i, ok := index[r.ID]; ok && results[i] == nil {
				results[i] = &r
				n++
			}
		case <-endBy.C:
			for i, h := range hellos {
				if results[i] == nil {
					missing = append(missing, h.ID)
				}
			}
			n = len(hellos)
		}
	}
	rep, err := Combine(results, offsets, cfg.Rate, senders)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Report: rep, Clocks: clocks}
	for _, r := range results {
		if r != nil {
			out.Parts = append(out.Parts, r.Report)
		} else {
			out.Parts = append(out.Parts, nil)
		}
	}
	rep.Config.Ramp = cfg.Ramp
	rep.Config.DurationS = cfg.Duration.Seconds()
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

func (c *Controller) abort(nc *nats.Conn, hellos []Hello, token string) {
	for _, h := range hellos {
		b, _ := json.Marshal(Start{Abort: true})
		_ = nc.Publish(subjStart(h.ID, token), b)
		_ = nc.Publish(subjAbort(h.ID, token), nil)
	}
	_ = nc.Flush()
}

func (c *Controller) logf(format string, v ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", v...)
	}
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
