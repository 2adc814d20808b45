package serve

import (
	"slices"
	"strings"
	"time"
)

// The judges below look at delay sequences only, so they are pure and
// tested with made-up sequences. Their tolerances are chosen so that a
// full-jitter client (the n-th delay uniform in [0, min(cap, base·2ⁿ)])
// passes with overwhelming probability and a fixed or deterministic
// schedule fails every time.

// Tolerances of the judges.
const (
	// growthRatio: the later half of the delays must average this many
	// times the first half for growth to count as visible.
	growthRatio = 1.5
	// hammerFloor: later delays averaging less than this, none of them over
	// twice it and not growing, are a storm whatever their shape.
	hammerFloor = 150 * time.Millisecond
	// sameRel and sameAbs: two delays within sameRel of each other plus
	// sameAbs (timer and scheduling noise) count as the same.
	sameRel = 0.10
	sameAbs = 25 * time.Millisecond
	// resetRatio: after a stable connection delays averaging at most this
	// fraction of the last delays before it show the reset. FAILED needs
	// them no smaller than before while the drops grew by clearGrowth or
	// more; in between the case is INFORMATIONAL. Simulated resetting
	// full-jitter clients (TestResetJudgeSimulated, 4,000 runs each): OK in
	// 98 % (base 100 ms, cap 1.6 s), 92 % (500 ms, 4 s) and 99 % (500 ms,
	// 30 s), FAILED once in 4,000; with cap/base small a reset cannot be
	// told from chance in three delays.
	resetRatio  = 0.75
	clearGrowth = 3.0
)

// fmtDelays prints a delay sequence for a case's detail: "[12ms 180ms 1.2s]".
func fmtDelays(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Round(time.Millisecond).String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func mean(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return s / time.Duration(len(ds))
}

// near reports whether got is within the noise tolerance of want.
func near(got, want float64) bool {
	diff := got - want
	if diff < 0 {
		diff = -diff
	}
	return diff <= sameRel*got+float64(sameAbs)
}

// deterministic reports whether the delays follow a schedule without
// jitter: each is the previous one times 1 (a fixed interval, or a reached
// cap), 2 (binary exponential) or the sequence's first factor, within
// noise; one step into a final plateau (the cap) may have any factor
// between 1 and 2. It needs at least three delays.
func deterministic(ds []time.Duration) bool {
	if len(ds) < 3 {
		return false
	}
	first := float64(ds[1]) / max(float64(ds[0]), 1)
	// plateau: the index from which every delay equals the one before.
	plateau := len(ds)
	for plateau > 1 && near(float64(ds[plateau-1]), float64(ds[plateau-2])) {
		plateau--
	}
	for i := 1; i < len(ds); i++ {
		prev, cur := float64(ds[i-1]), float64(ds[i])
		switch {
		case near(cur, prev), near(cur, 2*prev), near(cur, first*prev):
		case i == plateau-1 && plateau < len(ds) && cur > prev && cur < 2*prev:
		default:
			return false
		}
	}
	return true
}

// flatRel and flatAbs: a fixed interval shows every delay within
// max(flatRel·median, flatAbs) of the median, a loaded machine's timer
// noise included (a 100 ms retry measured as 95–160 ms). Full jitter over
// growing ceilings practically never does over nine delays; jitter
// smaller than flatAbs cannot be told from noise.
const (
	flatRel = 0.15
	flatAbs = 60 * time.Millisecond
)

// flat reports whether every delay lies in the band around the median: a
// fixed retry interval. It needs at least three delays.
func flat(ds []time.Duration) bool {
	if len(ds) < 3 {
		return false
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	med := sorted[len(sorted)/2]
	band := max(time.Duration(flatRel*float64(med)), flatAbs)
	for _, d := range ds {
		if d < med-band || d > med+band {
			return false
		}
	}
	return true
}

// fixedSchedule reports whether the client shows no jitter: all delays
// lie in one flat band (a fixed interval, noisy timers included), or the
// drops follow a deterministic schedule and, when the session got that
// far, the delays after the stable connection repeat it (each near the drop delay
// at its position, as after a reset, or near the last one, the cap). With
// both, a jittered client is called fixed far less often than with six
// delays alone (TestFullJitterPasses counts).
func fixedSchedule(drops, reset []time.Duration) bool {
	if flat(append(append([]time.Duration{}, drops...), reset...)) {
		return true
	}
	if !deterministic(drops) {
		return false
	}
	for i, d := range reset {
		if i >= len(drops) || (!near(float64(d), float64(drops[i])) && !near(float64(d), float64(drops[len(drops)-1]))) {
			return false
		}
	}
	return true
}

// growth compares the later half of ds with the first half.
func growth(ds []time.Duration) (first, later time.Duration, ratio float64) {
	h := len(ds) / 2
	first, later = mean(ds[:h]), mean(ds[len(ds)-h:])
	return first, later, float64(later) / max(float64(first), 1)
}
