package nats

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/nats-io/nats.go"
)

// ClockSamples is how many round trips measure an agent's clock offset.
const ClockSamples = 8

// ClockReply is an agent's answer to a clock probe: when it received the
// probe (T1) and when it answered (T2), in Unix ns of its own clock.
type ClockReply struct {
	T1 int64 `json:"t1"`
	T2 int64 `json:"t2"`
}

// Clock is one agent's clock as the controller measured it, reported in
// the merged report's generator.agents.
type Clock struct {
	ID       string  `json:"id"`
	Host     string  `json:"host,omitempty"`
	Clients  int     `json:"clients"`
	Senders  int     `json:"senders"`
	OffsetMs float64 `json:"clock_offset_ms"` // agent clock − controller clock
	BoundMs  float64 `json:"offset_bound_ms"` // |error of OffsetMs| ≤ BoundMs (RTT/2 of the best sample)
	RTTMs    float64 `json:"rtt_ms"`
	// Corrected is true when the offset was applied (to the start time and
	// the fan-out merge); false when it was within its bound (one clock).
	Corrected bool `json:"corrected"`
}

// Sample is one clock probe: t0 and t3 by the controller's clock, t1 and
// t2 by the agent's.
type Sample struct{ T0, T1, T2, T3 int64 }

// Offset returns the sample's clock offset and round-trip time.
func (s Sample) Offset() (offset, rtt time.Duration) {
	offset = time.Duration(((s.T1 - s.T0) + (s.T2 - s.T3)) / 2)
	rtt = time.Duration((s.T3 - s.T0) - (s.T2 - s.T1))
	return offset, rtt
}

// BestOffset picks the sample with the smallest round trip and returns its
// offset and bound (RTT/2).
func BestOffset(samples []Sample) (offset, bound time.Duration, ok bool) {
	best := time.Duration(math.MaxInt64)
	for _, s := range samples {
		o, rtt := s.Offset()
		if rtt < 0 {
			rtt = 0
		}
		if rtt < best {
			best, offset, ok = rtt, o, true
		}
	}
	return offset, best / 2, ok
}

// measureClock probes agent id n times.
func measureClock(nc *nats.Conn, id string, n int, timeout time.Duration) ([]Sample, error) {
	var out []Sample
	var lastErr error
	for i := 0; i < n; i++ {
		t0 := time.Now().UnixNano()
		msg, err := nc.Request(subjClock(id), nil, timeout)
		t3 := time.Now().UnixNano()
		if err != nil {
			lastErr = err
			continue
		}
		var r ClockReply
		if err := json.Unmarshal(msg.Data, &r); err != nil {
			lastErr = err
			continue
		}
		out = append(out, Sample{t0, r.T1, r.T2, t3})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("agent %s: no clock sample: %v", id, lastErr)
	}
	return out, nil
}
