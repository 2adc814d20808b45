// Package timetable is the loadgen's open-model schedule: broadcasts at a
// fixed total rate, spread evenly over the senders, independent of how fast
// the server answers.
//
// Slot n (n = 0, 1, 2, …) is due at Start + n/Rate and belongs to sender
// n mod Senders as that sender's message number n div Senders. So sender k
// sends its i-th message at Start + (k + i·Senders)/Rate. Because the slot
// number is unique per broadcast, receivers use it to index messages.
package timetable

import (
	"math"
	"time"
)

// Timetable is immutable and safe for concurrent use.
type Timetable struct {
	Start   time.Time // due time of slot 0
	Rate    float64   // broadcasts per second, all senders together (> 0)
	Senders int       // number of senders (> 0)
}

// Slot returns the global slot number of sender's seq-th message.
func (t Timetable) Slot(sender int, seq uint64) uint64 {
	return uint64(sender) + seq*uint64(t.Senders)
}

// Offset returns how long after Start slot n is due.
func (t Timetable) Offset(n uint64) time.Duration {
	return time.Duration(math.Round(float64(n) * 1e9 / t.Rate))
}

// Due returns the intended send time of slot n.
func (t Timetable) Due(n uint64) time.Time {
	return t.Start.Add(t.Offset(n))
}

// SlotsBefore returns how many slots are due strictly before Start+d, i.e.
// the first slot due at or after Start+d. It is 0 for d <= 0.
func (t Timetable) SlotsBefore(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	n := uint64(math.Ceil(d.Seconds() * t.Rate))
	// Correct rounding at the edges so that Offset(n-1) < d <= Offset(n).
	for n > 0 && t.Offset(n-1) >= d {
		n--
	}
	for t.Offset(n) < d {
		n++
	}
	return n
}

// FirstSeq returns the first sequence number of sender whose slot is >= n.
func (t Timetable) FirstSeq(sender int, n uint64) uint64 {
	s := uint64(t.Senders)
	k := uint64(sender)
	if n <= k {
		return 0
	}
	return (n - k + s - 1) / s
}
