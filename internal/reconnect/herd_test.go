package reconnect

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/backoff"
	"github.com/wsbench/wsbench/internal/eventually"
	"github.com/wsbench/wsbench/server/chatserver"
)

// serveAt runs a reference server on addr ("127.0.0.1:0" for any port)
// until the returned stop is called; the address can be bound again.
func serveAt(t *testing.T, cfg chatserver.Config, addr string) (string, func()) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the old socket may linger a moment
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	s, err := chatserver.New(cfg, func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	return ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		<-done
	}
}

// TestThunderingHerd drops 1,000 clients at once (a server restart) and
// checks that with the default backoff they come back spread out: no
// 100 ms window holds half of the reconnects. (Formerly the conformance
// case RC-06, which tested this client in-process.)
func TestThunderingHerd(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 clients; not in -short")
	}
	const n = 1000
	cfg := chatserver.DefaultConfig()
	cfg.MaxConns = 2 * n
	cfg.ShutdownGrace = time.Second
	cfg.CloseTimeout = 500 * time.Millisecond
	addr, stop := serveAt(t, cfg, "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait(); stop() }()

	var dropped atomic.Int64 // unix nanoseconds of the restart
	back := make([]atomic.Int64, n)
	var opened atomic.Int64
	for i := range n {
		c, err := New(Config{URL: "ws://" + addr + "/herd", Backoff: backoff.DefaultConfig(), DialTimeout: 5 * time.Second,
			OnOpen: func(int) {
				opened.Add(1)
				if d := dropped.Load(); d != 0 && back[i].Load() == 0 {
					back[i].Store(time.Now().UnixNano() - d)
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = c.Run(ctx) }()
		if (i+1)%100 == 0 { // connect in batches, so the start is no burst
			eventually.True(t, 30*time.Second, 10*time.Millisecond, func() error {
				if got := opened.Load(); got < int64(i+1) {
					return fmt.Errorf("%d of %d connected", got, i+1)
				}
				return nil
			})
		}
	}
	dropped.Store(time.Now().UnixNano())
	stop()
	_, stop = serveAt(t, cfg, addr)
	eventually.True(t, 60*time.Second, 50*time.Millisecond, func() error {
		for i := range back {
			if back[i].Load() == 0 {
				return fmt.Errorf("client %d not back", i)
			}
		}
		return nil
	})
	windows := map[int64]int{}
	var last time.Duration
	for i := range back {
		d := time.Duration(back[i].Load())
		windows[int64(d/(100*time.Millisecond))]++
		last = max(last, d)
	}
	peak, at := 0, int64(0)
	for w, c := range windows {
		if c > peak {
			peak, at = c, w
		}
	}
	t.Logf("peak %d of %d reconnects in one 100 ms window (at +%v); all back within %v over %d windows",
		peak, n, time.Duration(at)*100*time.Millisecond, last.Round(time.Millisecond), len(windows))
	if peak*2 > n {
		t.Errorf("%d of %d clients reconnected in one 100 ms window; want under half", peak, n)
	}
}
