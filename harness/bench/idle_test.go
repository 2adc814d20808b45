package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/internal/eventually"
)

// upgrader is a real WebSocket server on loopback that counts open
// connections and holds them until they close.
type upgrader struct {
	open atomic.Int64
	wg   sync.WaitGroup
}

func (u *upgrader) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, _, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	u.open.Add(1)
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		defer u.open.Add(-1)
		defer c.Close()
		_, _ = io.Copy(io.Discard, c)
	}()
}

func TestHoldIdle(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &upgrader{}
	srv := &http.Server{Handler: u}
	go srv.Serve(l)
	defer func() {
		srv.Close()
		u.wg.Wait()
	}()
	pr, pw := io.Pipe()
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- HoldIdle(context.Background(), "ws://"+l.Addr().String()+"/", 50, pw, stop) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(line, "ready 50 failed 0") {
		t.Errorf("HoldIdle ready line = %q; want \"ready 50 failed 0\"", line)
	}
	// The client's handshake ends when it reads the 101; the server counts
	// the connection just after writing it, so poll.
	eventually.True(t, 5*time.Second, 10*time.Millisecond, func() error {
		if got := u.open.Load(); got != 50 {
			return fmt.Errorf("server sees %d open connections while held; want 50", got)
		}
		return nil
	})
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 5*time.Second, 10*time.Millisecond, func() error {
		if got := u.open.Load(); got != 0 {
			return fmt.Errorf("server sees %d open connections after stop; want 0", got)
		}
		return nil
	})
}
