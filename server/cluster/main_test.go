package cluster

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package when goroutines (nodes, NATS servers, agents,
// clients) outlive its tests.
func TestMain(m *testing.M) {
	before := len(goroutines())
	code := m.Run()
	if code == 0 {
		left := goroutines()
		for deadline := time.Now().Add(5 * time.Second); len(left) > before && time.Now().Before(deadline); left = goroutines() {
			time.Sleep(20 * time.Millisecond)
		}
		if len(left) > before {
			fmt.Fprintf(os.Stderr, "%d goroutines left after the tests (%d before):\n%s\n", len(left), before, strings.Join(left, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// goroutines returns the stacks of the running goroutines, leaving out
// the signal handler that fuzzing starts.
func goroutines() []string {
	buf := make([]byte, 1<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if !strings.Contains(g, "os/signal.") {
			out = append(out, g)
		}
	}
	return out
}
