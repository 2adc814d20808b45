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

// TestPingFloodCoalesced: a client that sends pings far faster than the
// server writes, with a one-frame send queue, is not closed as a slow
// consumer; it gets pongs in order and the last one answers its last ping.
func TestPingFloodCoalesced(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.SendQueue = 1; c.PingInterval = 0 })
	c := dial(t, s, "/flood")
	const pings = 5000
	var flood []byte
	for i := 0; i < pings; i++ {
		flood = append(flood, masked(true, 0, ws.OpPing, []byte(fmt.Sprint(i)))...)
	}
	c.write(flood)
	last, n := -1, 0
	for last != pings-1 {
		f, err := c.read(5 * time.Second)
		if err != nil {
			t.Fatalf("after %d pongs (last %d): %v", n, last, err)
		}
		if f.Header.OpCode != ws.OpPong {
			t.Fatalf("got opcode %v (payload %q) after %d pongs; want only pongs, no close", f.Header.OpCode, f.Payload, n)
		}
		var k int
		if _, err := fmt.Sscan(string(f.Payload), &k); err != nil || k <= last {
			t.Fatalf("pong %q after pong %d: want increasing ping numbers", f.Payload, last)
		}
		last, n = k, n+1
	}
	if got := metric(t, s, `wsbench_slow_consumer_closes_total{reason="queue"}`); got != 0 {
		t.Errorf("slow consumer closes = %v; want 0", got)
	}
	t.Logf("%d pings answered by %d pongs", pings, n)
}
