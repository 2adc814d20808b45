package main

import "testing"

func TestServeExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"help", []string{"serve", "--help"}, 0},
		{"list", []string{"serve", "--list"}, 0},
		{"unknown flag", []string{"serve", "--bogus"}, 2},
		{"stray argument", []string{"serve", "ws://x/"}, 2},
		{"bad addr", []string{"serve", "--addr", "nowhere"}, 2},
		{"too few attempts", []string{"serve", "--attempts", "2"}, 2},
		{"fractional retry-after", []string{"serve", "--retry-after", "1500ms"}, 2},
		{"bad regexp", []string{"serve", "--run", "("}, 2},
		{"no client fails", []string{"serve", "--addr", "127.0.0.1:0", "--timeout", "300ms"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args); got != tc.want {
				t.Errorf("run(%q) = %d; want %d", tc.args, got, tc.want)
			}
		})
	}
}
