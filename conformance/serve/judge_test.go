package serve

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func ms(vs ...int) []time.Duration {
	ds := make([]time.Duration, len(vs))
	for i, v := range vs {
		ds[i] = time.Duration(v) * time.Millisecond
	}
	return ds
}

func TestDeterministic(t *testing.T) {
	tests := []struct {
		name string
		ds   []time.Duration
		want bool
	}{
		{"fixed 100 ms with timer noise", ms(101, 103, 118, 117, 120, 101), true},
		{"binary exponential then cap", ms(100, 200, 400, 800, 1000, 1000), true},
		{"factor 1.5", ms(100, 150, 225, 338, 506), true},
		{"full jitter", ms(74, 95, 206, 347, 1278, 630), false},
		{"equal jitter", ms(80, 150, 390, 610, 1400, 1900), false},
		{"two delays cannot tell", ms(100, 100), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := deterministic(tc.ds); got != tc.want {
				t.Errorf("deterministic(%s) = %v; want %v", fmtDelays(tc.ds), got, tc.want)
			}
		})
	}
}

// TestFullJitterPasses draws many full-jitter sequences (base 100 ms,
// cap 2 s, six attempts, three after the reset) and counts how often the
// judges would call them fixed (CR-04 FAILED), flat (CR-03 NON-STRICT) or
// hammering (CR-03 FAILED): at most 1 in 500, 2 in 100 and 1 in 200
// (measured with this seed: 2, 33 and 5 of 2,000).
func TestFixedSchedule(t *testing.T) {
	tests := []struct {
		name         string
		drops, reset []time.Duration
		want         bool
	}{
		{"fixed 100 ms", ms(101, 103, 118, 117, 120, 101), ms(101, 107, 109), true},
		{"fixed 100 ms on a loaded machine", ms(100, 160, 95, 140, 120, 105), ms(150, 100, 130), true},
		{"1 s with ±20 % jitter", ms(1180, 850, 1020, 810, 1150, 960), ms(1090, 830, 1190), false},
		{"exponential, reset", ms(100, 200, 400, 800, 1000, 1000), ms(102, 199, 405), true},
		{"exponential, no reset (cap)", ms(100, 200, 400, 800, 1000, 1000), ms(1001, 1000, 1003), true},
		{"exponential, reset jittered", ms(100, 200, 400, 800, 1000, 1000), ms(30, 170, 90), false},
		{"jittered drops", ms(74, 95, 206, 347, 1278, 630), ms(30, 122, 383), false},
		{"session stopped before the reset", ms(100, 100, 100), nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fixedSchedule(tc.drops, tc.reset); got != tc.want {
				t.Errorf("fixedSchedule(%s, %s) = %v; want %v", fmtDelays(tc.drops), fmtDelays(tc.reset), got, tc.want)
			}
		})
	}
}

func TestFullJitterPasses(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	const runs = 2000
	det, flat, hammer := 0, 0, 0
	for range runs {
		var ds []time.Duration
		for n := range 6 {
			ceil := min(2*time.Second, 100*time.Millisecond<<n)
			ds = append(ds, time.Duration(rnd.Float64()*float64(ceil)))
		}
		var reset []time.Duration
		for n := range 3 {
			reset = append(reset, time.Duration(rnd.Float64()*float64(100*time.Millisecond<<n)))
		}
		if fixedSchedule(ds, reset) {
			det++
		}
		_, later, ratio := growth(ds)
		if ratio < growthRatio {
			flat++
		}
		if later < hammerFloor && slices.Max(ds) < 2*hammerFloor && ratio < growthRatio {
			hammer++
		}
	}
	t.Logf("of %d full-jitter runs: %d called fixed, %d without visible growth, %d under the hammer floor", runs, det, flat, hammer)
	if det*500 > runs || flat*100 > runs*2 || hammer*200 > runs {
		t.Errorf("too many false verdicts: %d deterministic, %d flat, %d hammering of %d", det, flat, hammer, runs)
	}
}

// TestResetJudgeSimulated runs judgeReset on simulated full-jitter
// clients that do reset after the stable connection: it must (almost)
// never call them FAILED. It logs how often they are OK.
func TestResetJudgeSimulated(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	cfg := DefaultConfig()
	for _, c := range []struct{ base, cap time.Duration }{{100 * time.Millisecond, 1600 * time.Millisecond}, {500 * time.Millisecond, 4 * time.Second}, {500 * time.Millisecond, 30 * time.Second}} {
		counts := map[string]int{}
		const runs = 4000
		for range runs {
			draw := func(n int) time.Duration { return time.Duration(rnd.Float64() * float64(min(c.cap, c.base<<n))) }
			o := &observations{}
			for n := range 6 {
				o.drops = append(o.drops, draw(n))
			}
			for n := range resetAttempts {
				o.resetDelays = append(o.resetDelays, draw(n))
			}
			counts[judgeReset(cfg, o).Verdict.String()]++
		}
		t.Logf("base %v cap %v: %v of %d", c.base, c.cap, counts, runs)
		if counts["FAILED"]*200 > runs {
			t.Errorf("base %v cap %v: %d of %d resetting clients FAILED", c.base, c.cap, counts["FAILED"], runs)
		}
	}
}
