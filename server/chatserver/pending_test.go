package chatserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// stall opens n TCP connections that each send the start of a request and
// then nothing (a slowloris), one after the other. The kernel queues them
// for accept in that order, so a connection dialled afterwards is accepted
// after all of them.
func stall(t *testing.T, s *Server, n int) []net.Conn {
	t.Helper()
	var out []net.Conn
	for i := range n {
		nc, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatalf("stalled connection %d: %v", i, err)
		}
		t.Cleanup(func() { nc.Close() })
		if _, err := fmt.Fprintf(nc, "GET /stalled-%d HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n", i); err != nil {
			t.Fatalf("stalled connection %d: %v", i, err)
		}
		out = append(out, nc)
	}
	return out
}

// closedByServer reports whether the server has closed nc (EOF or reset
// within d) rather than keeping it open.
func closedByServer(nc net.Conn, d time.Duration) bool {
	nc.SetReadDeadline(time.Now().Add(d))
	_, err := io.ReadAll(nc)
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

// TestSlowlorisDoesNotLockOut: more stalled connections than --max-pending,
// each having sent part of its request headers, must not keep a
// well-behaved client out: a gobwas/ws client upgrades and chats, and a
// net/http client gets 200 from /healthz and /metrics. Room is made by
// closing the oldest stalled connection, not the newest arrival. The
// handshake timeout is a minute, so it is not what lets them in.
func TestSlowlorisDoesNotLockOut(t *testing.T) {
	t.Parallel()
	const maxPending, stalled = 16, 24
	s := startServer(t, func(c *Config) { c.MaxPending = maxPending; c.HandshakeTimeout = time.Minute })
	conns := stall(t, s, stalled)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nc, _, _, err := ws.Dialer{}.Dial(ctx, "ws://"+s.Addr().String()+"/lobby")
	if err != nil {
		t.Fatalf("well-behaved client with %d stalled connections open (--max-pending %d): %v; want an upgrade", stalled, maxPending, err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := wsutil.WriteClientText(nc, []byte("hello")); err != nil {
		t.Fatalf("send: %v", err)
	}
	if msg, err := wsutil.ReadServerText(nc); err != nil || string(msg) != "hello" {
		t.Fatalf("chat: got %q, %v; want the echo \"hello\"", msg, err)
	}

	hc := &http.Client{Timeout: 5 * time.Second}
	for _, path := range []string{"/healthz", "/metrics"} {
		resp, err := hc.Get("http://" + s.Addr().String() + path)
		if err != nil {
			t.Fatalf("GET %s with %d stalled connections open: %v; want 200", path, stalled, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d; want 200", path, resp.StatusCode)
		}
	}
	if !closedByServer(conns[0], 2*time.Second) {
		t.Errorf("the oldest stalled connection is still open; want it closed to make room")
	}
	if closedByServer(conns[stalled-1], 200*time.Millisecond) {
		t.Errorf("the newest stalled connection was closed; want the oldest ones closed first")
	}
	if n := s.pending.Load(); n > maxPending {
		t.Errorf("%d connections pending; want at most --max-pending %d", n, maxPending)
	}
}
