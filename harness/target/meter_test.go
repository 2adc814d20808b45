package target

import (
	"os"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	t.Parallel()
	w := Window{Wall: 2, Busy: CPUTimes{1.5, 0.25}, Proc: 1}
	for _, tc := range []struct {
		name        string
		cpu         int
		busy, other float64
	}{
		{"the process's CPU", 0, 1.5, 0.5},
		{"less busy than the process used", 1, 0.25, 0},
		{"unknown CPU", 5, 0, 0},
		{"no CPU", -1, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := w.BusyOn(tc.cpu); got != tc.busy {
				t.Errorf("BusyOn(%d) = %g; want %g", tc.cpu, got, tc.busy)
			}
			if got := w.Other(tc.cpu); got != tc.other {
				t.Errorf("Other(%d) = %g; want %g", tc.cpu, got, tc.other)
			}
		})
	}
}

func TestCPUMeterSelf(t *testing.T) {
	t.Parallel()
	m := StartCPUMeter(os.Getpid())
	time.Sleep(20 * time.Millisecond)
	w, err := m.Read()
	if err != nil {
		t.Fatal(err)
	}
	if w.Wall <= 0 || w.Proc < 0 || len(w.Busy) == 0 {
		t.Errorf("Read() = %+v; want a positive wall time, a non-negative process time and per-CPU times", w)
	}
	if _, err := StartCPUMeter(1 << 30).Read(); err == nil {
		t.Error("Read() of a process that does not exist = nil error; want one")
	}
}

func TestPeakRSSSelf(t *testing.T) {
	t.Parallel()
	s := StartPeakRSS(os.Getpid(), 5*time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	peak, err := s.Stop()
	if err != nil || peak <= 0 {
		t.Errorf("Stop() = %d, %v; want this process's positive RSS", peak, err)
	}
	if peak, err := StartPeakRSS(0, time.Millisecond).Stop(); peak != 0 || err != nil {
		t.Errorf("Stop() without a pid = %d, %v; want 0, nil", peak, err)
	}
	if _, err := ReadMemory(1 << 30); err == nil {
		t.Error("ReadMemory of a process that does not exist = nil error; want one")
	}
}
