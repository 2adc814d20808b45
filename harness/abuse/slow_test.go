package abuse

import (
	"context"
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
	url := startServer(t, nil, func(cfg *chatserver.Config) {
		cfg.WriteTimeout = time.Second
		cfg.SocketBuffer = 32 << 10
	})
	tg, err := NewTarget(url)
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
