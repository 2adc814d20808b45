package abuse

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Scenario is one hostile behaviour. Run must return by itself within
// a bound derived from the Config (count and time), and close every
// connection it opened.
type Scenario struct {
	Name        string
	Description string
	RoomProbe   bool // judged by the room probe (the abusers share its room) instead of the standard one
	NoProbe     bool // not judged by a probe (the scenario runs its own server)
	Run         func(ctx context.Context, e *env) Outcome
}

// Outcome is what a scenario observed, beside the common checks.
type Outcome struct {
	Attempted int            `json:"attempted"`
	Codes     map[string]int `json:"codes"`              // close codes (or "eof", "reset", "open", …) the abusive clients saw
	Facts     map[string]any `json:"facts,omitempty"`    // scenario-specific measurements
	Failures  []string       `json:"failures,omitempty"` // scenario-specific criteria not met
	// LatencyFailures are timing criteria not met; like the probe's
	// latency they count as failures only when the machine was quiet
	// enough for a latency to be the server's (runScenario).
	LatencyFailures []string `json:"latency_failures,omitempty"`
}

func newOutcome() Outcome { return Outcome{Codes: map[string]int{}, Facts: map[string]any{}} }

// counter is a concurrency-safe tally of outcome keys.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) add(k string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[k]++
	c.mu.Unlock()
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// FormatCodes renders a code tally as "1008×10 eof×2", largest first.
func FormatCodes(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var s []kv
	for k, v := range m {
		s = append(s, kv{k, v})
	}
	sort.Slice(s, func(i, j int) bool {
		if s[i].v != s[j].v {
			return s[i].v > s[j].v
		}
		return s[i].k < s[j].k
	})
	parts := make([]string, len(s))
	for i, e := range s {
		parts[i] = fmt.Sprintf("%s×%d", e.k, e.v)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// parallel calls fn(i) for i in [0,n) on at most workers goroutines and
// stops handing out work when ctx ends.
func parallel(ctx context.Context, n, workers int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// fates drains each connection (it stopped reading earlier) for up to wait
// and tallies how it ended: a close code, "eof", "reset", or "open" when
// the server had not closed it. Every connection is then closed.
func fates(ctx context.Context, conns []*rawConn, wait time.Duration) map[string]int {
	var c counter
	deadline := time.Now().Add(wait)
	parallel(context.WithoutCancel(ctx), len(conns), 256, func(i int) {
		code, err := conns[i].readClose(deadline)
		c.add(codeKey(code, err))
		closeHard(conns[i].nc)
	})
	return c.snapshot()
}

// closedShare is the share of tallied connections that the server closed
// (anything but "open").
func closedShare(m map[string]int) (closed, total int) {
	for k, v := range m {
		total += v
		if k != "open" {
			closed += v
		}
	}
	return closed, total
}
