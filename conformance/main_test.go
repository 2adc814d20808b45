package main

import "testing"

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"help", []string{"--help"}, 0},
		{"list", []string{"--list"}, 0},
		{"unknown flag", []string{"--bogus"}, 2},
		{"stray argument", []string{"ws://x/"}, 2},
		{"http url", []string{"--url", "http://127.0.0.1:1/"}, 2},
		{"bad regexp", []string{"--run", "("}, 2},
		{"selects nothing", []string{"--run", "^NOPE$"}, 2},
		{"pong below ping", []string{"--ping-interval", "2s", "--pong-timeout", "1s"}, 2},
		{"unreachable server fails", []string{"--url", "ws://127.0.0.1:1/", "--run", "^HS-01$", "--timeout", "2s"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args); got != tc.want {
				t.Errorf("run(%q) = %d; want %d", tc.args, got, tc.want)
			}
		})
	}
}
