package backoff

import (
	"testing"
	"time"
)

func TestCeiling(t *testing.T) {
	t.Parallel()
	c := Config{Base: 500 * time.Millisecond, Cap: 30 * time.Second, Stable: time.Second}
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, 500 * time.Millisecond}, {1, time.Second}, {2, 2 * time.Second}, {5, 16 * time.Second},
		{6, 30 * time.Second}, {60, 30 * time.Second}, {1000, 30 * time.Second},
	}
	for _, tc := range tests {
		if got := c.Ceiling(tc.n); got != tc.want {
			t.Errorf("Ceiling(%d) = %v; want %v", tc.n, got, tc.want)
		}
	}
}

func TestNextFullJitter(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	for _, tc := range []struct {
		name string
		r    float64
	}{{"zero", 0}, {"mid", 0.5}, {"top", 0.999999}} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(c, func() float64 { return tc.r })
			for n := 0; n < 12; n++ {
				d := p.Next()
				ceil := c.Ceiling(n)
				if d < 0 || d > ceil {
					t.Fatalf("delay %d = %v; want within [0, %v]", n, d, ceil)
				}
				if want := time.Duration(tc.r * float64(ceil+1)); d != want {
					t.Fatalf("delay %d = %v; want %v", n, d, want)
				}
			}
		})
	}
}

func TestNextRandomWithinBounds(t *testing.T) {
	t.Parallel()
	c := Config{Base: 10 * time.Millisecond, Cap: 200 * time.Millisecond}
	p := New(c, nil)
	for n := 0; n < 1000; n++ {
		if d, ceil := p.Next(), c.Ceiling(n); d < 0 || d > ceil {
			t.Fatalf("delay %d = %v outside [0, %v]", n, d, ceil)
		}
	}
}

func TestStableReset(t *testing.T) {
	t.Parallel()
	p := New(Config{Base: time.Millisecond, Cap: time.Second, Stable: 10 * time.Second}, func() float64 { return 0 })
	p.Next()
	p.Next()
	p.Connected(9 * time.Second)
	if p.Attempt() != 2 {
		t.Fatalf("Attempt after short uptime = %d; want 2", p.Attempt())
	}
	p.Connected(10 * time.Second)
	if p.Attempt() != 0 {
		t.Fatalf("Attempt after stable uptime = %d; want 0", p.Attempt())
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Config{Base: time.Second, Cap: time.Millisecond}).Validate(); err == nil {
		t.Fatal("cap below base accepted")
	}
}
