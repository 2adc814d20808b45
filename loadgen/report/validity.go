package report

import (
	"fmt"
	"slices"
)

// Defaults of the validity limits (--max-drops, --max-connect-fail): the
// share of connections that may be dropped by the server, or fail to
// connect, before a run no longer measures the load it was asked for.
const (
	DefaultMaxDrops       = 0.01
	DefaultMaxConnectFail = 0.01
)

// Judge sets Valid and InvalidReasons from the report's counters and the
// limits recorded in Config. A run is invalid when it did not measure the
// load it was configured for, whatever its latencies say:
//   - it was interrupted, or no connection was established;
//   - nothing was sent in the measured window;
//   - broadcasts were sent but not one was delivered (the server relays
//     nothing this loadgen recognises, e.g. it wraps or rewrites messages);
//   - foreign messages outnumber deliveries;
//   - dropped connections exceed Config.MaxDrops of the established ones;
//   - failed connects exceed Config.MaxConnectFail of the attempted ones.
//
// Each reason says what happened and what to change. Judge replaces any
// earlier verdict, so it can be called again after a merge.
func (r *Report) Judge() {
	var why []string
	add := func(format string, a ...any) { why = append(why, fmt.Sprintf(format, a...)) }
	c, m := r.Connections, r.Messages
	if r.Interrupted {
		add("run interrupted: %.2fs of the %gs window measured; run it to the end to judge the server", r.MeasuredS, r.Config.DurationS)
	}
	switch {
	case c.Established == 0:
		add("no connection could be established (%d attempted); check --url and that the server is running", c.Attempted)
	case m.Sent == 0 && !r.Interrupted:
		add("no broadcast was sent in the measured window (%d send errors); check the generator warnings", r.Generator.SendErrors)
	case m.Sent > 0 && m.Delivered == 0 && m.DeliveredDropped == 0:
		add("%d broadcasts sent but none delivered (%d foreign messages received): the server relays nothing this loadgen recognises; check that --url names a broadcast room, or use --payload text / --template if the server wraps or rewrites messages", m.Sent, m.Foreign)
	}
	if seen := m.Delivered + m.DeliveredDropped; m.Foreign > 0 && m.Foreign > seen {
		add("%d foreign messages outnumber %d deliveries: most of what the server sent was not this run's broadcasts (wrapped or rewritten messages, pushes, another run in the room); use --payload text / --template or --ignore, or a room of its own", m.Foreign, seen)
	}
	if c.Established > 0 && float64(c.Dropped) > r.Config.MaxDrops*float64(c.Established) {
		add("%d of %d connections (%.2f%%) were dropped before the close phase %s, more than --max-drops %s: the server closed or lost them; lower --clients or --rate, fix the server, or raise --max-drops",
			c.Dropped, c.Established, pct(c.Dropped, c.Established), dropReasons(c.DropReasons), pctLimit(r.Config.MaxDrops))
	}
	if c.Attempted > 0 && float64(c.Failed) > r.Config.MaxConnectFail*float64(c.Attempted) {
		add("%d of %d connections (%.2f%%) failed to connect, more than --max-connect-fail %s: the server refused or timed out (see the warnings for the first error); lower --clients or --ramp, raise the server's limits, or raise --max-connect-fail",
			c.Failed, c.Attempted, pct(c.Failed, c.Attempted), pctLimit(r.Config.MaxConnectFail))
	}
	r.Valid = len(why) == 0
	r.InvalidReasons = why
	if r.InvalidReasons == nil {
		r.InvalidReasons = []string{}
	}
}

// Invalidate marks r invalid for an extra reason (a merged part's) without
// judging again.
func (r *Report) Invalidate(reason string) {
	r.Valid = false
	if !slices.Contains(r.InvalidReasons, reason) {
		r.InvalidReasons = append(r.InvalidReasons, reason)
	}
}

func pct(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

func pctLimit(f float64) string { return fmt.Sprintf("%g%%", 100*f) }

func dropReasons(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	s := "("
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s: %d", k, m[k])
	}
	return s + ")"
}
