package main

import "testing"

func TestRunRefusesNonsense(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"help", []string{"--help"}, 0},
		{"unknown flag", []string{"--bogus"}, 2},
		{"bad duration", []string{"--ping-interval", "soon"}, 2},
		{"zero max-conns", []string{"--max-conns", "0"}, 2},
		{"pong shorter than ping", []string{"--ping-interval", "10s", "--pong-timeout", "5s"}, 2},
		{"stray argument", []string{"8181"}, 2},
		{"gc-percent too low", []string{"--gc-percent", "0"}, 2},
		{"gc-percent too high", []string{"--gc-percent", "5000"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args); got != tc.want {
				t.Fatalf("run(%q) = %d; want %d", tc.args, got, tc.want)
			}
		})
	}
}
