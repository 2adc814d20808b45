package abuse

import (
	"time"

	"github.com/wsbench/wsbench/harness/bench"
	"github.com/wsbench/wsbench/internal/procstat"
)

// maxOtherPct is the share of the server's CPU that other processes may
// use during a scenario before the probe's latency is no longer judged:
// above it, a slower probe says more about the machine than the server
// (make bench reports the same quantity per run).
const maxOtherPct = 20.0

// maxProbeCPUPct is how busy the probe's own CPU (shared with the
// attacker) may be before the probe's latency is no longer judged: a
// saturated client core delays the probe's reads whatever the server does.
const maxProbeCPUPct = 90.0

// loadMeter measures how much of the server's pinned CPU went to other
// processes: the CPU's busy time (/proc/stat) minus the server's own
// (utime+stime); and how busy the probe's CPU was.
type loadMeter struct {
	pid, cpu  int
	probeCPU  int
	start     time.Time
	cpuBefore bench.CPUTimes
	srvBefore float64
	ok        bool
}

func startLoad(pid, cpu, probeCPU int) *loadMeter {
	m := &loadMeter{pid: pid, cpu: cpu, probeCPU: probeCPU, start: time.Now()}
	if pid == 0 || cpu < 0 {
		return m
	}
	var err1, err2 error
	m.cpuBefore, err1 = bench.ReadCPUTimes()
	m.srvBefore, err2 = procstat.CPUSeconds(pid)
	m.ok = err1 == nil && err2 == nil
	return m
}

// otherPct returns the other processes' share of the server's CPU since
// startLoad, in percent, or -1 when unknown.
func (m *loadMeter) otherPct() float64 {
	if !m.ok {
		return -1
	}
	cpuAfter, err1 := bench.ReadCPUTimes()
	srvAfter, err2 := procstat.CPUSeconds(m.pid)
	wall := time.Since(m.start).Seconds()
	if err1 != nil || err2 != nil || wall <= 0 {
		return -1
	}
	other := m.cpuBefore.Busy(cpuAfter, m.cpu) - (srvAfter - m.srvBefore)
	return 100 * max(0, other) / wall
}

// probeBusyPct returns how busy the probe's CPU was since startLoad, in
// percent, or -1 when unknown.
func (m *loadMeter) probeBusyPct() float64 {
	if !m.ok || m.probeCPU < 0 {
		return -1
	}
	cpuAfter, err := bench.ReadCPUTimes()
	wall := time.Since(m.start).Seconds()
	if err != nil || wall <= 0 {
		return -1
	}
	return 100 * m.cpuBefore.Busy(cpuAfter, m.probeCPU) / wall
}
