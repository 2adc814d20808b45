package receive

import (
	"sync"
	"sync/atomic"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/loadgen/timetable"
)

// Window describes which messages belong to this run and which of them are
// measured: the slots Lo ≤ slot < Hi of the timetable.
type Window struct {
	RunID  uint64
	Table  timetable.Timetable
	Lo, Hi uint64
	// Rooms: slot n is broadcast in room n mod Rooms (0 or 1: one room).
	Rooms int
	// ExpectOthers: a sender is not owed its own messages (servers that
	// relay to everyone except the sender).
	ExpectOthers bool
}

// Len returns the number of measured slots.
func (w *Window) Len() uint64 { return w.Hi - w.Lo }

// Stats collects what every Reader of a run observed. Record paths are safe
// for concurrent use; Start must be called before any message of the run is
// sent, Tick from one goroutine at a time.
type Stats struct {
	window atomic.Pointer[Window]
	last   []atomic.Int64 // per measured slot: latest receipt, Unix ns
	shards []shard
	rooms  []roomShard             // per room when Window.Rooms > 1
	tick   *hdrhistogram.Histogram // scratch for Tick
}

// roomShard holds one room's measured first-delivery latencies.
type roomShard struct {
	mu      sync.Mutex
	latency *hdrhistogram.Histogram
	_       [64]byte
}

type shard struct {
	mu        sync.Mutex
	interval  *hdrhistogram.Histogram // every delivery of this run, since the last Tick
	total     *hdrhistogram.Histogram // measured first deliveries
	delivered int64                   // measured deliveries
	recent    int64                   // deliveries of this run since the last Tick
	foreign   int64
	_         [64]byte // keep shards on separate cache lines
}

// NewStats returns Stats with n histogram shards (n ≥ 1).
func NewStats(n int) *Stats {
	if n < 1 {
		n = 1
	}
	s := &Stats{shards: make([]shard, n), tick: report.NewLatencyHistogram()}
	for i := range s.shards {
		s.shards[i].interval = report.NewLatencyHistogram()
		s.shards[i].total = report.NewLatencyHistogram()
	}
	return s
}

// Start sets the run's window. Messages arriving before Start are foreign.
func (s *Stats) Start(w Window) {
	s.last = make([]atomic.Int64, w.Len())
	if w.Rooms > 1 {
		s.rooms = make([]roomShard, w.Rooms)
		for i := range s.rooms {
			s.rooms[i].latency = report.NewRoomHistogram()
		}
	}
	s.window.Store(&w)
}

// Window returns the window set by Start, or nil.
func (s *Stats) Window() *Window { return s.window.Load() }

func (s *Stats) shard(id int) *shard { return &s.shards[id%len(s.shards)] }

// Interval is what Tick returns: deliveries since the previous Tick and
// their latency percentiles in microseconds.
type Interval struct {
	Deliveries         int64
	P50, P99, MaxMicro int64
	Delivered          int64 // measured deliveries so far (all receivers)
	Foreign            int64 // foreign messages so far
}

// Tick returns and resets the per-interval counts.
func (s *Stats) Tick() Interval {
	var iv Interval
	s.tick.Reset()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		s.tick.Merge(sh.interval)
		sh.interval.Reset()
		iv.Deliveries += sh.recent
		sh.recent = 0
		iv.Delivered += sh.delivered
		iv.Foreign += sh.foreign
		sh.mu.Unlock()
	}
	iv.P50 = s.tick.ValueAtQuantile(50)
	iv.P99 = s.tick.ValueAtQuantile(99)
	iv.MaxMicro = s.tick.Max()
	return iv
}

// Latency returns the merged histogram of measured delivery latencies (µs).
func (s *Stats) Latency() *hdrhistogram.Histogram {
	h := report.NewLatencyHistogram()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		h.Merge(sh.total)
		sh.mu.Unlock()
	}
	return h
}

// RoomLatency returns a copy of room i's histogram of measured delivery
// latencies (µs), or nil when the run has one room.
func (s *Stats) RoomLatency(i int) *hdrhistogram.Histogram {
	if i < 0 || i >= len(s.rooms) {
		return nil
	}
	h := report.NewRoomHistogram()
	rm := &s.rooms[i]
	rm.mu.Lock()
	h.Merge(rm.latency)
	rm.mu.Unlock()
	return h
}

// Foreign returns the number of foreign messages received so far.
func (s *Stats) Foreign() int64 {
	var n int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.foreign
		sh.mu.Unlock()
	}
	return n
}

// LastReceipts returns, per measured slot, the Unix ns time at which the
// last receiver got it (0 = nobody did). Call it after the readers stopped.
func (s *Stats) LastReceipts() []int64 {
	out := make([]int64, len(s.last))
	for i := range s.last {
		out[i] = s.last[i].Load()
	}
	return out
}

// FanoutHistogram turns last-receipt times into the fan-out histogram (µs
// from the intended send time to the last receipt), counting only slots
// that were delivered at least once.
func FanoutHistogram(w *Window, last []int64) *hdrhistogram.Histogram {
	h := report.NewLatencyHistogram()
	for i, t := range last {
		if t == 0 {
			continue
		}
		due := w.Table.Due(w.Lo + uint64(i)).UnixNano()
		_ = h.RecordValue(clampMicros((t - due) / 1000))
	}
	return h
}

func clampMicros(us int64) int64 {
	if us < report.HistMinMicros {
		return report.HistMinMicros
	}
	if us > report.HistMaxMicros {
		return report.HistMaxMicros
	}
	return us
}

// Delivered returns the measured deliveries so far, all receivers together.
func (s *Stats) Delivered() int64 {
	var n int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.delivered
		sh.mu.Unlock()
	}
	return n
}
