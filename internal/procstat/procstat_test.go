package procstat

import (
	"os"
	"testing"
	"time"
)

func TestReadSelf(t *testing.T) {
	t.Parallel()
	s, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSKiB <= 0 || s.PeakRSSKiB < s.RSSKiB || s.Threads < 1 || s.CPUSeconds < 0 {
		t.Errorf("Read(self) = %+v; want positive RSS ≤ peak, threads ≥ 1", s)
	}
}

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	// Field 2 holds spaces and a parenthesis; utime=250, stime=50 ticks.
	stat := "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 1000 200"
	got, err := ParseStatCPU(stat)
	if err != nil || got != 3 {
		t.Errorf("ParseStatCPU = %v, %v; want 3 s", got, err)
	}
	if _, err := ParseStatCPU("1234 no paren"); err == nil {
		t.Error("ParseStatCPU(no command name) = nil error; want one")
	}
}

func TestCPUSecondsSelf(t *testing.T) {
	t.Parallel()
	before, err := CPUSeconds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) { // burn CPU so the tick count moves
	}
	after, err := CPUSeconds(os.Getpid())
	if err != nil || after <= before {
		t.Errorf("CPUSeconds after 50 ms of work = %v, %v; want more than %v", after, err, before)
	}
	if _, err := CPUSeconds(-1); err == nil {
		t.Error("CPUSeconds(-1) = nil error; want one")
	}
}
