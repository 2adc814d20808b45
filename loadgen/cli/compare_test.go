package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestCompareExitCodes: the compare command's flags and exit codes (what
// it concludes is tested in loadgen/compare).
func TestCompareExitCodes(t *testing.T) {
	t.Parallel()
	const old, new = "../compare/testdata/old", "../compare/testdata/new"
	for _, tc := range []struct {
		name string
		args []string
		want int
		out  string // substring of stdout or stderr
	}{
		{"same results", []string{old, old}, ExitOK, "0 regressed"},
		{"regression", []string{old, new}, ExitRegressed, "REGRESSION"},
		{"no arguments", nil, ExitUsage, "need OLD and NEW"},
		{"one argument", []string{old}, ExitUsage, "need OLD and NEW"},
		{"unknown flag", []string{"--bogus", old, old}, ExitUsage, "unknown flag"},
		{"nonsense threshold", []string{"--max-regress", "-5", old, old}, ExitUsage, "--max-regress"},
		{"missing file", []string{"nope.json", old}, ExitUsage, "no such file"},
		{"help", []string{"--help"}, ExitOK, "usage: loadgen compare"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			if got := loadgen("compare", tc.args, &out, &errb); got != tc.want {
				t.Errorf("loadgen compare %q = %d; want %d\nstdout:\n%s\nstderr:\n%s", tc.args, got, tc.want, out.String(), errb.String())
			}
			if !strings.Contains(out.String()+errb.String(), tc.out) {
				t.Errorf("loadgen compare %q output lacks %q\nstdout:\n%s\nstderr:\n%s", tc.args, tc.out, out.String(), errb.String())
			}
		})
	}
}
