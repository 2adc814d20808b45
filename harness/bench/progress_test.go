package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressETA(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	clock := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	p := NewProgress(&buf, 4, 40*time.Second)
	p.now = func() time.Time { return clock }
	p.start = clock
	p.Begin(10*time.Second, "step one")
	clock = clock.Add(20 * time.Second) // twice as slow as estimated
	p.End("done")
	if got, want := p.ETA(), 60*time.Second; got != want {
		t.Errorf("ETA after a step twice as slow = %v; want %v", got, want)
	}
	p.Drop(1, 10*time.Second)
	p.Begin(10*time.Second, "step two")
	if !strings.Contains(buf.String(), "[bench 2/3 20s elapsed, ETA 40s] step two") {
		t.Errorf("progress output = %q; want a line for step 2/3 with ETA 40s", buf.String())
	}
}
