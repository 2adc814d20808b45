package target

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/wsbench/wsbench/internal/procstat"
)

// CPUTimes are the busy seconds of each CPU since boot, from /proc/stat
// (user+nice+system+irq+softirq+steal).
type CPUTimes []float64

// ReadCPUTimes reads /proc/stat.
func ReadCPUTimes() (CPUTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil, err
	}
	return parseCPUTimes(string(b))
}

func parseCPUTimes(stat string) (CPUTimes, error) {
	var out CPUTimes
	for _, line := range strings.Split(stat, "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		n, err := strconv.Atoi(f[0][3:])
		if err != nil {
			continue
		}
		var busy int64
		for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
			v, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("/proc/stat %s: %w", f[0], err)
			}
			busy += v
		}
		for len(out) <= n {
			out = append(out, 0)
		}
		out[n] = float64(busy) / procstat.ClockTicks
	}
	if len(out) == 0 {
		return nil, errors.New("/proc/stat: no per-CPU lines")
	}
	return out, nil
}

// Busy returns the busy seconds of cpu between t and later (0 when either
// lacks it).
func (t CPUTimes) Busy(later CPUTimes, cpu int) float64 {
	if cpu < 0 || cpu >= len(t) || cpu >= len(later) {
		return 0
	}
	return later[cpu] - t[cpu]
}
