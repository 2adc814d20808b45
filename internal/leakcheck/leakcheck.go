// Package leakcheck fails a test binary whose goroutines outlive its tests:
// servers, clients and timers that a test starts must all stop, or a
// long-running program built from the same code leaks them too.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Main runs the tests of m and exits with their code, or with 1 when they
// passed but more goroutines than before are still running after a grace
// period; it then prints their stacks.
func Main(m *testing.M) {
	before := len(Goroutines())
	code := m.Run()
	if code == 0 {
		if left := Leaked(before, 10*time.Second); left != nil {
			fmt.Fprintf(os.Stderr, "%d goroutines left after the tests (%d before):\n%s\n", len(left), before, strings.Join(left, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// Leaked waits up to wait for the goroutines to drop to at most limit and
// returns their stacks if they do not, else nil.
func Leaked(limit int, wait time.Duration) []string {
	left := Goroutines()
	for deadline := time.Now().Add(wait); len(left) > limit && time.Now().Before(deadline); left = Goroutines() {
		time.Sleep(20 * time.Millisecond)
	}
	if len(left) > limit {
		return left
	}
	return nil
}

// Goroutines returns the stacks of the running goroutines, leaving out the
// signal handler that fuzzing and signal.Notify start (it never ends).
func Goroutines() []string {
	buf := make([]byte, 1<<20)
	var out []string
	for g := range strings.SplitSeq(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if !strings.Contains(g, "os/signal.") {
			out = append(out, g)
		}
	}
	return out
}
