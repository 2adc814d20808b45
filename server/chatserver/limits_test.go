package chatserver

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/internal/eventually"
)

// TestSlowloris: a client that never finishes its request headers is cut
// after the handshake timeout.
func TestSlowloris(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.HandshakeTimeout = 200 * time.Millisecond })
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n") // never ends
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(nc); err != nil {
		t.Fatalf("connection not closed by the server: %v", err)
	}
}

// TestCloseTimeout: a client that never answers our close frame is dropped
// after the close timeout, long before the shutdown grace ends.
func TestCloseTimeout(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) {
		c.ShutdownGrace = 20 * time.Second
		c.CloseTimeout = 200 * time.Millisecond
		c.WriteTimeout = 200 * time.Millisecond
	})
	c := dial(t, s, "/")
	waitMembers(t, s, "/", 1)
	done := make(chan struct{})
	go func() { s.Shutdown(context.Background()); close(done) }()
	if code, _ := c.expectClose(5 * time.Second); code != 1001 {
		t.Fatalf("close %d; want 1001", code)
	}
	c.expectEOF(5 * time.Second) // we never answer
	eventually.True(t, 5*time.Second, 10*time.Millisecond, func() error {
		if got := metric(t, s, `wsbench_connections_dropped_total{reason="close_timeout"}`); got != 1 {
			return fmt.Errorf("close_timeout drops = %v; want 1", got)
		}
		return nil
	})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown still waiting after the only client was dropped")
	}
}

// TestMaxPending: at most --max-pending connections that have not upgraded
// are held (upgraded ones do not count). A newcomer over the limit makes
// room by closing the connection that has waited longest for its request;
// only when every held connection is being served is the newcomer closed.
func TestMaxPending(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.MaxPending = 2; c.HandshakeTimeout = time.Minute })
	ws1 := dial(t, s, "/") // upgraded: not pending
	_ = ws1
	idle := stall(t, s, 2)
	eventually.True(t, 5*time.Second, 5*time.Millisecond, func() error {
		if n := s.pending.Load(); n != 2 {
			return fmt.Errorf("%d pending connections; want 2", n)
		}
		return nil
	})
	extra := stall(t, s, 1)[0]
	if !closedByServer(idle[0], 5*time.Second) {
		t.Fatal("oldest pending connection not closed when a third arrived")
	}
	if closedByServer(extra, 200*time.Millisecond) || closedByServer(idle[1], 10*time.Millisecond) {
		t.Fatal("a newer pending connection was closed; want only the oldest")
	}
	if got := metric(t, s, `wsbench_pending_closed_total{reason="evicted"}`); got != 1 {
		t.Errorf("evicted = %v; want 1", got)
	}
	idle[1].Close()
	extra.Close()

	// Two connections whose requests are being served: a POST whose
	// announced body never comes keeps net/http reading (StateActive).
	for range 2 {
		nc, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		io.WriteString(nc, "POST /busy HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
	}
	eventually.True(t, 5*time.Second, 5*time.Millisecond, func() error {
		if n := s.pending.Load(); n != 2 {
			return fmt.Errorf("%d pending connections; want the 2 being served", n)
		}
		s.pend.mu.Lock()
		n := s.pend.waiting.Len()
		s.pend.mu.Unlock()
		if n != 0 {
			return fmt.Errorf("%d connections waiting for a request; want 0", n)
		}
		return nil
	})
	if !closedByServer(stall(t, s, 1)[0], 5*time.Second) {
		t.Fatal("newcomer not closed while every pending connection is being served")
	}
	if got := metric(t, s, `wsbench_connections_refused_total{reason="max_pending"}`); got != 1 {
		t.Errorf("refused max_pending = %v; want 1", got)
	}
}

// TestHandshakeDeadlineFromAccept: a client that trickles its headers one
// byte at a time, well inside any gap limit, is still cut at the handshake
// timeout counted from its accept.
func TestHandshakeDeadlineFromAccept(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	s := startServer(t, func(c *Config) { c.HandshakeTimeout = timeout })
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	start := time.Now()
	req := []byte("GET / HTTP/1.1\r\nHost: x\r\nX-Trickle: " + strings.Repeat("a", 4000))
	for _, b := range req {
		if _, err := nc.Write([]byte{b}); err != nil {
			break // cut
		}
		time.Sleep(10 * time.Millisecond)
		if time.Since(start) > 20*timeout {
			t.Fatalf("still writing %v after the accept; want the connection cut after about %v", time.Since(start), timeout)
		}
	}
	if !closedByServer(nc, 5*time.Second) {
		t.Fatal("trickling connection not closed")
	}
	eventually.True(t, 5*time.Second, 5*time.Millisecond, func() error {
		if n := s.pending.Load(); n != 0 {
			return fmt.Errorf("%d pending connections; want 0", n)
		}
		return nil
	})
}

// TestMaxRate: with --max-rate 10 a burst of one second's worth passes,
// a faster sender is closed with 1008, and a sender below the rate is not.
func TestMaxRate(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.MaxRate = 10; c.PingInterval = 0 })
	fast := dial(t, s, "/rate-fast")
	var burst []byte
	for i := range 30 {
		burst = append(burst, masked(true, 0, ws.OpText, []byte(fmt.Sprint(i)))...)
	}
	fast.write(burst)
	echoed := 0
	for {
		f, err := fast.read(5 * time.Second)
		if err != nil {
			t.Fatalf("after %d echoes: %v; want a 1008 close", echoed, err)
		}
		if f.Header.OpCode == ws.OpClose {
			if code := ws.StatusCode(binary.BigEndian.Uint16(f.Payload)); code != ws.StatusPolicyViolation {
				t.Fatalf("close %d %q; want 1008", code, f.Payload[2:])
			}
			break
		}
		echoed++
	}
	if echoed < 10 || echoed > 11 {
		t.Errorf("%d of the burst of 30 relayed before the close; want the bucket's 10 (11 with refill)", echoed)
	}
	if got := metric(t, s, "wsbench_rate_limited_total"); got != 1 {
		t.Errorf("wsbench_rate_limited_total = %v; want 1", got)
	}

	steady := dial(t, s, "/rate-steady")
	for i := range 15 {
		steady.send(ws.OpText, fmt.Sprint(i))
		if f, err := steady.readData(5 * time.Second); err != nil || f.Header.OpCode == ws.OpClose {
			t.Fatalf("message %d at 8/s: %v %q %v; want its echo", i, f.Header.OpCode, f.Payload, err)
		}
		time.Sleep(125 * time.Millisecond)
	}
}

// TestMaxConnsPerIP: a fourth connection from one address gets 429 with
// Retry-After while three are open; when one closes, the address may
// connect again.
func TestMaxConnsPerIP(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.MaxConnsPerIP = 3 })
	var cs []*client
	for range 3 {
		cs = append(cs, dial(t, s, "/per-ip"))
	}
	r := rawRequest(t, s, upgradeReq("GET", "HTTP/1.1", "/per-ip"))
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth connection from one address: %d, Retry-After %q; want 429 with Retry-After", r.StatusCode, r.Header.Get("Retry-After"))
	}
	cs[0].nc.Close()
	eventually.True(t, 5*time.Second, 20*time.Millisecond, func() error {
		if r := rawRequest(t, s, upgradeReq("GET", "HTTP/1.1", "/per-ip")); r.StatusCode != http.StatusSwitchingProtocols {
			return fmt.Errorf("after one of three closed: %d; want 101", r.StatusCode)
		}
		return nil
	})
}
