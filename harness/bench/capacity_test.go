package bench

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestSearch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		start     float64
		limit     float64 // rates ≤ limit pass
		maxSteps  int
		wantBest  float64
		wantFail  float64
		wantLimit string
		wantSteps int
	}{
		{"up then bisect", 25, 130, 12, 130, 140, "converged", 7},
		{"first step fails", 100, 30, 12, 30, 32, "converged", 6},
		{"out of steps", 25, 130, 3, 100, 0, "steps", 3},
		{"never fails", 25, 1e9, 20, 1600, 0, "ceiling", 7},
		{"always fails", 1, 0, 20, 0, 0.1, "floor", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rates []float64
			probe := func(_ context.Context, step int, rate float64) (bool, error) {
				if step != len(rates)+1 {
					return false, fmt.Errorf("step %d after %d probes", step, len(rates))
				}
				rates = append(rates, rate)
				return rate <= tc.limit, nil
			}
			res, err := Search(context.Background(), tc.start, 0.1, 2000, tc.maxSteps, 0.15, probe)
			if err != nil {
				t.Fatal(err)
			}
			if res.Best != tc.wantBest || res.Failed != tc.wantFail || res.Limit != tc.wantLimit || res.Steps != tc.wantSteps {
				t.Errorf("Search = %+v (rates %v); want best %g, failed %g, limit %s, steps %d", res, rates, tc.wantBest, tc.wantFail, tc.wantLimit, tc.wantSteps)
			}
			if res.Best > tc.limit {
				t.Errorf("Search best %g passes the limit %g", res.Best, tc.limit)
			}
		})
	}
}

func TestSearchStopsOnProbeError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	_, err := Search(context.Background(), 10, 1, 1000, 5, 0.15, func(context.Context, int, float64) (bool, error) { return false, boom })
	if !errors.Is(err, boom) {
		t.Errorf("Search error = %v; want %v", err, boom)
	}
}

func TestRoundRate(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]float64{1234: 1200, 56.7: 57, 0.05: 0.1, 100: 100, 141.42: 140, 2.4000000000000004: 2.4, 3.3 * 1.0000001: 3.3} {
		if got := roundRate(in); got != want {
			t.Errorf("roundRate(%g) = %g; want %g", in, got, want)
		}
	}
}
