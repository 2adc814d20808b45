package pipe

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"

	"github.com/wsbench/wsbench/loadgen/run"
)

// tickPrefix marks a worker's per-second run.Tick on its stderr, among its
// log lines.
const tickPrefix = "tick "

// tickWriter is a worker's run.Config.IntervalLog: each JSON line it gets
// goes to the coordinator on stderr, marked with tickPrefix.
type tickWriter struct{ w io.Writer }

func (t tickWriter) Write(p []byte) (int, error) {
	if _, err := t.w.Write(append([]byte(tickPrefix), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// progressMerger joins the workers' per-second ticks into one progress
// line (and one interval-log line) per second of the run. Counts add up;
// the latency of the union of the workers' deliveries is not known from
// their percentiles, so the line shows the delivery-weighted mean of their
// p50s and the largest p99 and max, an upper bound (marked "≤").
type progressMerger struct {
	procs   int
	clients int
	out     io.Writer     // progress lines; nil: none
	enc     *json.Encoder // merged interval log; nil: none

	mu      sync.Mutex
	pending map[int]map[int]run.Tick // second → worker → tick
	newest  int
	done    int // seconds up to this one are written
}

func newProgressMerger(procs, clients int, out, intervalLog io.Writer) *progressMerger {
	m := &progressMerger{procs: procs, clients: clients, out: out, pending: make(map[int]map[int]run.Tick)}
	if intervalLog != nil {
		m.enc = json.NewEncoder(intervalLog)
	}
	return m
}

// line handles one stderr line of worker id and reports whether it was a
// tick (else it is a log line for the caller to pass on).
func (m *progressMerger) line(id int, s string) bool {
	body, ok := strings.CutPrefix(s, tickPrefix)
	if !ok {
		return false
	}
	var t run.Tick
	if json.Unmarshal([]byte(body), &t) != nil {
		return false
	}
	m.add(id, t)
	return true
}

// add records one tick; a second is written once every worker has sent
// it, or, when a worker is late or gone, two seconds later with the
// workers that did.
func (m *progressMerger) add(id int, t run.Tick) {
	sec := int(math.Round(t.T))
	m.mu.Lock()
	defer m.mu.Unlock()
	if sec <= m.done {
		return
	}
	if m.pending[sec] == nil {
		m.pending[sec] = make(map[int]run.Tick)
	}
	m.pending[sec][id] = t
	m.newest = max(m.newest, sec)
	for s := m.done + 1; s <= m.newest; s++ {
		got := m.pending[s]
		if len(got) < m.procs && s > m.newest-2 {
			return
		}
		if len(got) > 0 {
			m.write(merge(got), len(got))
		}
		delete(m.pending, s)
		m.done = s
	}
}

// flush writes the seconds still pending (at the end of the run).
func (m *progressMerger) flush() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := m.done + 1; s <= m.newest; s++ {
		if got := m.pending[s]; len(got) > 0 {
			m.write(merge(got), len(got))
		}
		delete(m.pending, s)
		m.done = s
	}
}

func (m *progressMerger) write(t run.Tick, workers int) {
	if m.out != nil {
		fmt.Fprintf(m.out, "%6.1fs %-7s connected %d/%d  sent %d/s  delivered %d/s  p50 %.2fms p99 ≤%.2fms max %.2fms (last 1s, %d of %d workers)  undelivered %.2f%%\n",
			t.T, t.Phase, t.Connected, m.clients, t.Sent, t.Deliveries, t.P50Ms, t.P99Ms, t.MaxMs, workers, m.procs, 100*t.Undelivered)
	}
	if m.enc != nil {
		_ = m.enc.Encode(t)
	}
}

// merge joins one second's ticks of several workers.
func merge(ticks map[int]run.Tick) run.Tick {
	var out run.Tick
	var p50Weighted, undeliveredWeighted float64
	for _, t := range ticks {
		if out.Phase == "" || t.T < out.T {
			out.T, out.Phase = t.T, t.Phase
		}
		out.Connected += t.Connected
		out.Sent += t.Sent
		out.Deliveries += t.Deliveries
		out.Foreign += t.Foreign
		out.P99Ms = max(out.P99Ms, t.P99Ms)
		out.MaxMs = max(out.MaxMs, t.MaxMs)
		p50Weighted += t.P50Ms * float64(t.Deliveries)
		undeliveredWeighted += t.Undelivered * float64(t.Connected)
	}
	if out.Deliveries > 0 {
		out.P50Ms = p50Weighted / float64(out.Deliveries)
	}
	if out.Connected > 0 {
		out.Undelivered = undeliveredWeighted / float64(out.Connected)
	}
	return out
}
