package relaytest

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// fanouts records how long each broadcast's writes to every client took,
// in µs: the spread a receiver-side kernel timestamp still sees, since the
// k-th client's copy enters its socket when the relay writes it.
type fanouts struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram // guarded by mu; nil until the first
}

func (f *fanouts) record(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.h == nil {
		f.h = hdrhistogram.New(1, 60_000_000, 3)
	}
	_ = f.h.RecordValue(max(d.Microseconds(), 1))
}

// FanoutTimes returns the p50 and p99 of how long the relay took to write
// one broadcast to all its clients, over the broadcasts since ResetFanouts.
func (r *Relay) FanoutTimes() (p50, p99 time.Duration) {
	r.fan.mu.Lock()
	defer r.fan.mu.Unlock()
	if r.fan.h == nil {
		return 0, 0
	}
	us := func(q float64) time.Duration { return time.Duration(r.fan.h.ValueAtQuantile(q)) * time.Microsecond }
	return us(50), us(99)
}

// ResetFanouts forgets the fan-out times recorded so far (the ramp's and
// warmup's, say).
func (r *Relay) ResetFanouts() {
	r.fan.mu.Lock()
	defer r.fan.mu.Unlock()
	r.fan.h = nil
}
