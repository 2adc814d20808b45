// Package chattest runs the reference server in the test process of other
// packages (conformance cases, the reconnecting client, the abuse program),
// so their tests talk to the real server over real loopback sockets.
package chattest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/wsbench/wsbench/server/chatserver"
)

// Start serves cfg on a free 127.0.0.1 port until the test ends, then shuts
// the server down and waits for it; it returns the "host:port" address.
// logf receives the server's log lines (nil: none).
func Start(t testing.TB, cfg chatserver.Config, logf func(string, ...any)) string {
	t.Helper()
	s, err := chatserver.New(cfg, logf)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Logf("chattest: shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("chattest: Serve returned %v", err)
		}
	})
	return ln.Addr().String()
}
