package run

import (
	"sync"

	"github.com/wsbench/wsbench/internal/procstat"
	"github.com/wsbench/wsbench/loadgen/report"
)

// serverCPU samples the server's CPU time at the edges of the measured
// window (--server-pid). start and stop may be called from different
// goroutines; stats after both.
type serverCPU struct {
	mu          sync.Mutex
	pid         int
	start, stop float64 // CPU seconds at the window's edges
	ok          bool    // both samples read
	started     bool
}

// begin samples the server at the window's start; pid 0 does nothing.
func (s *serverCPU) begin(pid int) {
	if pid == 0 {
		return
	}
	cpu, err := procstat.CPUSeconds(pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pid, s.start, s.started = pid, cpu, err == nil
}

// end samples the server at the window's end.
func (s *serverCPU) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return
	}
	cpu, err := procstat.CPUSeconds(s.pid)
	s.stop, s.ok = cpu, err == nil
}

// stats returns the report's server section for deliveries made in the
// window, or nil when no server was sampled.
func (s *serverCPU) stats(deliveries int64) *report.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ok {
		return nil
	}
	out := &report.Server{PID: s.pid, CPUSeconds: s.stop - s.start}
	if deliveries > 0 {
		out.CPUUsPerDelivery = out.CPUSeconds * 1e6 / float64(deliveries)
	}
	return out
}
