package bench

import (
	"strings"
	"testing"
)

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
