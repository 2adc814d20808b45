// Package procstat reads a process's CPU time and memory from Linux /proc:
// the bench records a server's resources with it, and the loadgen the
// server's CPU time over its measured window (--server-pid).
package procstat

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ClockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux architecture Go supports.
const ClockTicks = 100

// Stats are a process's resources read from /proc.
type Stats struct {
	RSSKiB     int64   // VmRSS
	PeakRSSKiB int64   // VmHWM
	CPUSeconds float64 // utime + stime
	Threads    int
}

// Read reads /proc/PID/status and /proc/PID/stat.
func Read(pid int) (Stats, error) {
	var s Stats
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			s.RSSKiB = n
		case "VmHWM":
			s.PeakRSSKiB = n
		case "Threads":
			s.Threads = int(n)
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	cpu, err := ParseStatCPU(string(stat))
	if err != nil {
		return s, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	s.CPUSeconds = cpu
	return s, nil
}

// ParseStatCPU returns utime+stime in seconds from a /proc/PID/stat line.
// The command name (field 2) may hold spaces, so fields are counted from
// its closing parenthesis: utime and stime are fields 14 and 15.
func ParseStatCPU(stat string) (float64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("no command name")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name; want at least 13", len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return float64(ut+st) / ClockTicks, nil
}

// CPUSeconds returns utime+stime of process pid in seconds, reading only
// /proc/PID/stat (one small read, cheap enough to call at a window edge).
func CPUSeconds(pid int) (float64, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	cpu, err := ParseStatCPU(string(stat))
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return cpu, nil
}
