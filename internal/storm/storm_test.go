package storm

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// TestStorm restarts a server under 1,000 connected clients and checks the
// properties of the backoff, not speed: every client comes back, and the
// reconnects are spread out instead of arriving as one herd.
func TestStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("storm: 1,000 clients; skipped with -short")
	}
	base := runtime.NumGoroutine()
	defer func() {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base {
			t.Errorf("%d goroutines left after the storm (%d before)", n, base)
		}
	}()
	cfg := DefaultConfig()
	cfg.Clients = 1000
	cfg.Server.MaxConns = 1100
	res, err := Run(context.Background(), cfg, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reconnected != cfg.Clients {
		t.Fatalf("reconnected %d of %d clients within %v", res.Reconnected, cfg.Clients, cfg.Bound)
	}
	// The first reconnect is drawn from [0, Base] (500 ms = 5 buckets),
	// so a bucket expects about 20 % of the clients; a herd reconnecting
	// at once would put (nearly) all of them into one bucket.
	if res.PeakShare >= 0.4 {
		t.Errorf("peak bucket holds %d of %d reconnects (%.0f%%); want < 40%%: the backoff does not spread the herd", res.PeakPerBucket, res.Clients, 100*res.PeakShare)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*Config)
	}{
		{"no clients", func(c *Config) { c.Clients = 0 }},
		{"too many clients", func(c *Config) { c.Clients = 9000 }},
		{"cap below base", func(c *Config) { c.Backoff.Cap = c.Backoff.Base / 2 }},
		{"max-conns below clients", func(c *Config) { c.Server.MaxConns = c.Clients - 1 }},
		{"no bound", func(c *Config) { c.Bound = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mut(&c)
			if c.Validate() == nil {
				t.Errorf("Validate() = nil; want an error")
			}
		})
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}
}
