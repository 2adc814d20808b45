package receive

// Tracker counts the measured deliveries of one receiver. Messages are
// identified by their slot relative to the first measured slot (see the
// timetable package); per-sender order follows from the slot numbering:
// sender k's messages are the slots k, k+S, k+2S, … of the window.
//
// A Tracker belongs to one goroutine.
type Tracker struct {
	bits []uint64 // bit rel set once slot rel was delivered
	top  uint64   // 1 + highest slot delivered so far, 0 = none

	Delivered  int64 // measured deliveries, duplicates included
	Duplicated int64 // deliveries of a slot already delivered
	Reordered  int64 // deliveries after a later message of the same sender
}

// Observe records the delivery of relative slot rel, in a window of n slots
// with the given number of senders (rel < n). It reports whether the
// delivery was a duplicate or arrived out of its sender's order.
func (t *Tracker) Observe(rel, senders, n uint64) (dup, reordered bool) {
	if t.bits == nil {
		t.bits = make([]uint64, (n+63)/64)
	}
	t.Delivered++
	w, m := rel/64, uint64(1)<<(rel%64)
	if t.bits[w]&m != 0 {
		t.Duplicated++
		return true, false
	}
	t.bits[w] |= m
	// A later message of the same sender already delivered? Only slots
	// below top can have been delivered, so in-order traffic loops zero
	// times.
	for s := rel + senders; s < t.top; s += senders {
		if t.bits[s/64]&(uint64(1)<<(s%64)) != 0 {
			t.Reordered++
			reordered = true
			break
		}
	}
	if rel >= t.top {
		t.top = rel + 1
	}
	return false, reordered
}

// Unique returns the number of distinct slots delivered.
func (t *Tracker) Unique() int64 { return t.Delivered - t.Duplicated }
