package abuse

import "github.com/wsbench/wsbench/harness/target"

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
// processes, and how busy the probe's CPU was (target.CPUMeter).
type loadMeter struct {
	cpu, probeCPU int
	m             *target.CPUMeter // nil: not measured (pid unknown or not pinned)
}

func startLoad(pid, cpu, probeCPU int) *loadMeter {
	l := &loadMeter{cpu: cpu, probeCPU: probeCPU}
	if pid != 0 && cpu >= 0 {
		l.m = target.StartCPUMeter(pid)
	}
	return l
}

// otherPct returns the other processes' share of the server's CPU since
// startLoad, in percent, or -1 when unknown.
func (l *loadMeter) otherPct() float64 {
	if l.m == nil {
		return -1
	}
	w, err := l.m.Read()
	if err != nil || w.Wall <= 0 {
		return -1
	}
	return 100 * w.Other(l.cpu) / w.Wall
}

// probeBusyPct returns how busy the probe's CPU was since startLoad, in
// percent, or -1 when unknown.
func (l *loadMeter) probeBusyPct() float64 {
	if l.m == nil || l.probeCPU < 0 {
		return -1
	}
	w, err := l.m.Read()
	if err != nil || w.Wall <= 0 {
		return -1
	}
	return 100 * w.BusyOn(l.probeCPU) / w.Wall
}
