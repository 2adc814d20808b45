package client

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSourceIPsSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{"single", "127.0.0.2", "127.0.0.2", ""},
		{"list", "127.0.0.2, 127.0.0.3", "127.0.0.2,127.0.0.3", ""},
		{"range", "127.0.0.2-127.0.0.4", "127.0.0.2,127.0.0.3,127.0.0.4", ""},
		{"cidr", "127.0.1.0/31", "127.0.1.0,127.0.1.1", ""},
		{"mixed", "127.0.0.9,127.0.1.4/31", "127.0.0.9,127.0.1.4,127.0.1.5", ""},
		{"backwards", "127.0.0.4-127.0.0.2", "", "below its start"},
		{"ipv6", "::1", "", "IPv4"},
		{"junk", "localhost", "", "IPv4"},
		{"too many", "10.0.0.0/8", "", "more than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s SourceIPs
			err := s.Set(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Set(%q) error = %v; want it to mention %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Set(%q): %v", tc.in, err)
			}
			if got := s.String(); got != tc.want {
				t.Errorf("Set(%q) = %s; want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestCapacity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		clients int
		fd      uint64
		sources int
		fit     int
		warns   int
	}{
		{"fits", 1000, 20000, 0, 1000, 0},
		{"fd bound", 19999, 20000, 0, 20000 - FDReserve, 1},
		{"ports bound", 30000, 100000, 0, EphemeralPorts, 1},
		{"ports fixed by sources", 30000, 100000, 2, 30000, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := make([]net.IP, tc.sources)
			fit, w := Capacity(tc.clients, tc.fd, src)
			if fit != tc.fit || len(w) != tc.warns {
				t.Errorf("Capacity(%d, %d, %d sources) = %d, %q; want %d and %d warnings", tc.clients, tc.fd, tc.sources, fit, w, tc.fit, tc.warns)
			}
		})
	}
}

func TestRaiseNoFile(t *testing.T) {
	n, err := RaiseNoFile()
	if err != nil {
		t.Fatal(err)
	}
	if n < 1024 {
		t.Errorf("RaiseNoFile() = %d; want at least 1024", n)
	}
}

func TestRampStartsAllAndStopsOnCancel(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	Ramp(context.Background(), 50, 0, func(int) { n.Add(1) })
	if n.Load() != 50 {
		t.Errorf("Ramp(50) dialed %d; want 50", n.Load())
	}
	ctx, cancel := context.WithCancel(context.Background())
	var m atomic.Int64
	done := make(chan struct{})
	go func() {
		Ramp(ctx, 1000, 10, func(int) { m.Add(1) })
		close(done)
	}()
	time.Sleep(150 * time.Millisecond) // let a couple of slots pass
	cancel()
	<-done
	if got := m.Load(); got == 0 || got >= 1000 {
		t.Errorf("cancelled Ramp at 10/s dialed %d; want some but not all", got)
	}
}
