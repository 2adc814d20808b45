package target

import (
	"fmt"
	"sync"
	"time"

	"github.com/wsbench/wsbench/internal/procstat"
)

// PeakRSS records the highest VmRSS of a process while it runs. VmHWM is
// the peak since the process started, so a peak per scenario or per run
// needs sampling. Stop may be called from any goroutine, once.
type PeakRSS struct {
	pid  int
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	peak int64 // bytes
	err  error
}

// StartPeakRSS samples process pid every step until Stop; pid 0 (unknown)
// samples nothing.
func StartPeakRSS(pid int, step time.Duration) *PeakRSS {
	s := &PeakRSS{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	if pid == 0 {
		close(s.done)
		return s
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(step)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				s.sample()
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Memory is a reading of a process's memory, in bytes.
type Memory struct {
	RSS int64 // VmRSS: resident now
	HWM int64 // VmHWM: peak resident since the process started
}

// ReadMemory reads VmRSS and VmHWM of process pid (procstat.Read). A
// process without VmRSS has exited (a zombie keeps its /proc entry): that
// is an error, so callers can tell a dead server from a small one.
func ReadMemory(pid int) (Memory, error) {
	st, err := procstat.Read(pid)
	if err != nil {
		return Memory{}, err
	}
	if st.RSSKiB == 0 {
		return Memory{}, fmt.Errorf("/proc/%d/status: no VmRSS (the process has exited)", pid)
	}
	return Memory{RSS: st.RSSKiB << 10, HWM: st.PeakRSSKiB << 10}, nil
}

func (s *PeakRSS) sample() {
	m, err := ReadMemory(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.err = err
		return
	}
	s.peak = max(s.peak, m.RSS)
}

// Stop ends sampling and returns the peak VmRSS seen in bytes (0 when
// unknown) and the last error (the process may have died).
func (s *PeakRSS) Stop() (int64, error) {
	if s.pid != 0 {
		close(s.stop)
	}
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak, s.err
}
