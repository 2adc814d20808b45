package abuse

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/wsbench/wsbench/server/chatserver"
)

// TestSlowReadersBoundedSendBuffer runs the slow-readers scenario against
// our server with --socket-buffer 32 KiB and a 1 s write timeout: every
// non-reading client must be closed by the server's slow-consumer policy.
// (With --socket-buffer 0, kernel autotuning up to 4 MiB, the 96 KiB each
// is sent all fit in the kernel and nothing is closed; see SECURITY.md.)
func TestSlowReadersBoundedSendBuffer(t *testing.T) {
	noLeaks(t)
	cfg := chatserver.DefaultConfig()
	cfg.WriteTimeout = time.Second
	cfg.SocketBuffer = 32 << 10
	cfg.CloseTimeout = 500 * time.Millisecond
	cfg.ShutdownGrace = time.Second
	s, err := chatserver.New(cfg, nil)
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
		s.Shutdown(ctx)
		<-done
	})
	tg, err := NewTarget("ws://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.SlowConns = 200
	e := &env{cfg: c, target: tg, logf: t.Logf}
	out := slowReaders(context.Background(), e)
	if len(out.Failures) > 0 {
		t.Fatalf("slow-readers: %v (codes %v, facts %v)", out.Failures, out.Codes, out.Facts)
	}
	if closed, _ := out.Facts["closed_by_server"].(int); closed != c.SlowConns {
		t.Errorf("closed_by_server = %v; want %d", out.Facts["closed_by_server"], c.SlowConns)
	}
}
