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
	// hammerFloor: later delays averaging less than this are a storm,
	// whatever their shape.
	hammerFloor = 250 * time.Millisecond
	// sameRel and sameAbs: two delays within sameRel of each other plus
	// sameAbs (timer and scheduling noise) count as the same.
	sameRel = 0.10
	sameAbs = 25 * time.Millisecond
	// resetRatio: after a stable connection the delays must average at
	// most this fraction of the last delays before it.
	resetRatio = 0.5
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

// deterministic reports whether every delay is the previous one times a
// constant factor, 1 (a fixed interval or a reached cap), 2 (plain binary
// exponential) or the sequence's median ratio, within noise: a schedule
// without jitter. It needs at least three delays.
func deterministic(ds []time.Duration) bool {
	if len(ds) < 3 {
		return false
	}
	var ratios []float64
	for i := 1; i < len(ds); i++ {
		ratios = append(ratios, float64(ds[i])/max(float64(ds[i-1]), 1))
	}
	med := slices.Clone(ratios)
	slices.Sort(med)
	m := med[len(med)/2]
	for i := 1; i < len(ds); i++ {
		prev, cur := float64(ds[i-1]), float64(ds[i])
		if !near(cur, prev) && !near(cur, 2*prev) && !near(cur, m*prev) {
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
