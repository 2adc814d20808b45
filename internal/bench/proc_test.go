package bench

import (
	"os"
	"strings"
	"testing"
)

func TestReadProcStatsSelf(t *testing.T) {
	t.Parallel()
	s, err := ReadProcStats(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSKiB <= 0 || s.PeakRSSKiB < s.RSSKiB || s.Threads < 1 || s.CPUSeconds < 0 {
		t.Errorf("ReadProcStats(self) = %+v; want positive RSS ≤ peak, threads ≥ 1", s)
	}
}

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	// Field 2 holds spaces and a parenthesis; utime=250, stime=50 ticks.
	stat := "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 1000 200"
	got, err := parseStatCPU(stat)
	if err != nil || got != 3 {
		t.Errorf("parseStatCPU = %v, %v; want 3 s", got, err)
	}
	if _, err := parseStatCPU("1234 no paren"); err == nil {
		t.Error("parseStatCPU(no command name) = nil error; want one")
	}
}

func TestParseGauge(t *testing.T) {
	t.Parallel()
	text := "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines_total 3\ngo_goroutines 1042\n"
	if got, err := parseGauge(strings.NewReader(text), "go_goroutines"); err != nil || got != 1042 {
		t.Errorf("parseGauge = %d, %v; want 1042", got, err)
	}
	if _, err := parseGauge(strings.NewReader("other 1\n"), "go_goroutines"); err == nil {
		t.Error("parseGauge(missing) = nil error; want one")
	}
}

func TestParseCPUTimes(t *testing.T) {
	t.Parallel()
	stat := "cpu  300 0 100 5000 0 0 0 0 0 0\ncpu0 100 0 50 2500 10 0 0 0 0 0\ncpu1 200 5 50 2500 0 1 2 3 0 0\nintr 1\n"
	got, err := parseCPUTimes(stat)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 1.5 || got[1] != 2.61 {
		t.Errorf("parseCPUTimes = %v; want [1.5 2.61]", got)
	}
	later := CPUTimes{2.5, 2.61}
	if b := got.Busy(later, 0); b != 1 {
		t.Errorf("Busy(cpu0) = %g; want 1", b)
	}
	if b := got.Busy(later, 7); b != 0 {
		t.Errorf("Busy(missing cpu) = %g; want 0", b)
	}
}
