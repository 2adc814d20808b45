package target

import (
	"strings"
	"testing"
)

// FuzzParseMetrics feeds arbitrary /metrics bodies (the server under test
// may be hostile or broken): parsing must not panic, and every parsed
// sample must come from a line of the input.
func FuzzParseMetrics(f *testing.F) {
	f.Add("wsbench_connections_open 3\n")
	f.Add("# HELP x\nx{code=\"1009\"} 1 1700000000\n")
	f.Add("a b c d\n\n  \nname NaN\nname{ +Inf\n")
	f.Fuzz(func(t *testing.T, body string) {
		for k := range ParseMetrics(strings.NewReader(body)) {
			if !strings.Contains(body, k) {
				t.Fatalf("sample %q is not in the input", k)
			}
		}
	})
}
