package main

import (
	"context"
	"io"
	"testing"
)

// TestUsageErrors: nonsense settings exit 2 before anything starts.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no target", nil},
		{"server-bin and url", []string{"--server-bin", "/bin/true", "--url", "ws://127.0.0.1:1/"}},
		{"one CPU for both", []string{"--server-bin", "/bin/true", "--server-cpu", "1", "--attacker-cpu", "1"}},
		{"too many stalled connections", []string{"--url", "ws://127.0.0.1:1/", "--slowloris-conns", "20000"}},
		{"hold without url", []string{"hold"}},
		{"hold with no connections", []string{"hold", "--url", "ws://127.0.0.1:1/", "--conns", "0"}},
		{"hold against another machine", []string{"hold", "--url", "ws://192.0.2.1:1/"}},
		{"stray argument", []string{"--url", "ws://127.0.0.1:1/", "extra"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := abuseMain(context.Background(), tc.args, io.Discard, io.Discard); got != 2 {
				t.Errorf("abuseMain(%q) = %d; want 2", tc.args, got)
			}
		})
	}
}
