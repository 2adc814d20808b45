package chatserver

import (
	"fmt"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/internal/eventually"
)

// TestHeartbeat: a peer that answers pings survives; a silent one is
// dropped after the pong timeout.
func TestHeartbeat(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.PingInterval = 50 * time.Millisecond; c.PongTimeout = 300 * time.Millisecond })
	alive := dial(t, s, "/hb")
	silent := dial(t, s, "/hb")
	waitMembers(t, s, "/hb", 2)
	start := time.Now()
	pings := 0
	for time.Since(start) < time.Second {
		f, err := alive.read(2 * time.Second)
		if err != nil {
			t.Fatalf("ponging peer: %v after %v", err, time.Since(start))
		}
		if f.Header.OpCode == ws.OpPing {
			pings++
			alive.send(ws.OpPong, string(f.Payload))
		}
	}
	if pings < 2 {
		t.Fatalf("got %d pings in 1s at a 50ms interval", pings)
	}
	eventually.True(t, 5*time.Second, 10*time.Millisecond, func() error {
		if got := metric(t, s, `wsbench_connections_dropped_total{reason="pong_timeout"}`); got != 1 {
			return fmt.Errorf("pong timeout drops = %v; want 1", got)
		}
		return nil
	})
	silent.expectEOF(5 * time.Second)
	if got := len(s.hub.snapshot("/hb", nil)); got != 1 {
		t.Fatalf("room has %d members; want the ponging one", got)
	}
}
