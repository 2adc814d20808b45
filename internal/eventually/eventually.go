// Package eventually lets tests wait for a condition by polling it, so that
// no test depends on a guessed time.Sleep.
package eventually

import (
	"testing"
	"time"
)

// True calls fn every step until it returns nil or total has passed; then it
// fails the test with fn's last error. It returns as soon as fn succeeds.
func True(tb testing.TB, total, step time.Duration, fn func() error) {
	tb.Helper()
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("condition not met after %v: %v", total, err)
		}
		time.Sleep(step)
	}
}
