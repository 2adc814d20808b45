package target

import (
	"time"

	"github.com/wsbench/wsbench/internal/procstat"
)

// CPUMeter measures, from its start, how busy each CPU of the machine was
// (/proc/stat) and how much CPU one process used (utime+stime): on the
// CPU a server is pinned to, the difference is what other work took from
// it, the figure that says whether a latency measured meanwhile is the
// server's or the machine's.
type CPUMeter struct {
	pid   int
	start time.Time
	cpus  CPUTimes
	proc  float64
	err   error
}

// StartCPUMeter starts measuring process pid.
func StartCPUMeter(pid int) *CPUMeter {
	m := &CPUMeter{pid: pid, start: time.Now()}
	m.cpus, m.err = ReadCPUTimes()
	if m.err == nil {
		m.proc, m.err = procstat.CPUSeconds(pid)
	}
	return m
}

// Window is what a CPUMeter saw from its start to a Read.
type Window struct {
	Wall float64  // seconds
	Busy CPUTimes // busy seconds of each CPU
	Proc float64  // the process's CPU seconds
}

// Read returns the window from the meter's start to now.
func (m *CPUMeter) Read() (Window, error) {
	if m.err != nil {
		return Window{}, m.err
	}
	cpus, err := ReadCPUTimes()
	if err != nil {
		return Window{}, err
	}
	proc, err := procstat.CPUSeconds(m.pid)
	if err != nil {
		return Window{}, err
	}
	w := Window{Wall: time.Since(m.start).Seconds(), Proc: proc - m.proc, Busy: make(CPUTimes, len(cpus))}
	for i := range cpus {
		w.Busy[i] = m.cpus.Busy(cpus, i)
	}
	return w, nil
}

// BusyOn returns the busy seconds of cpu in the window (0 when unknown).
func (w Window) BusyOn(cpu int) float64 {
	if cpu < 0 || cpu >= len(w.Busy) {
		return 0
	}
	return w.Busy[cpu]
}

// Other returns the busy seconds of cpu that were not the process's own:
// on the CPU the process is pinned to, what other work took.
func (w Window) Other(cpu int) float64 {
	return max(0, w.BusyOn(cpu)-w.Proc)
}
