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

	stop := make(chan struct{})
	pings := make(chan int, 1)
	go func() { // the live peer answers every ping until stopped
		n := 0
		defer func() { pings <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			f, err := alive.read(2 * time.Second)
			if err != nil {
				return
			}
			if f.Header.OpCode == ws.OpPing {
				n++
				alive.send(ws.OpPong, string(f.Payload))
			}
		}
	}()
	eventually.True(t, 5*time.Second, 10*time.Millisecond, func() error {
		if got := metric(t, s, `wsbench_connections_dropped_total{reason="pong_timeout"}`); got != 1 {
			return fmt.Errorf("pong timeout drops = %v; want 1", got)
		}
		return nil
	})
	silent.expectEOF(5 * time.Second)
	time.Sleep(600 * time.Millisecond) // two pong timeouts more for the live peer
	members := len(s.hub.snapshot("/hb", nil))
	close(stop)
	if n := <-pings; n < 2 {
		t.Fatalf("live peer saw %d pings; want several at a 50ms interval", n)
	}
	if members != 1 {
		t.Fatalf("room has %d members; want the ponging one only", members)
	}
}
