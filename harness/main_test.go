package main

import (
	"io"
	"strings"
	"testing"
)

// TestDispatch: the subcommand table, help and nonsense.
func TestDispatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want int
		out  string // in stderr
	}{
		{"no subcommand", nil, 2, "bench"},
		{"help", []string{"--help"}, 0, "cluster"},
		{"unknown", []string{"attack"}, 2, `unknown subcommand "attack"`},
		{"cluster help", []string{"cluster", "--help"}, 0, "--scale-clients"},
		{"cluster unknown part", []string{"cluster", "--skip", "huge"}, 2, `--skip "huge"`},
		{"cluster stray argument", []string{"cluster", "extra"}, 2, "unexpected arguments"},
		{"soak without a target", []string{"soak"}, 2, "--server-pid is required"},
		{"soak with a server and a url", []string{"soak", "--server-bin", "/bin/true", "--url", "ws://127.0.0.1:1/"}, 2, "leave out --url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			if got := dispatch(tc.args, io.Discard, &stderr); got != tc.want {
				t.Errorf("dispatch(%q) = %d; want %d (stderr %q)", tc.args, got, tc.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.out) {
				t.Errorf("dispatch(%q) stderr = %q; want it to contain %q", tc.args, stderr.String(), tc.out)
			}
		})
	}
}
